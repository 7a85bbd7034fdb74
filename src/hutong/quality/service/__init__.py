"""Quality supervision: rule sets, evaluations with scores, history, alerts and rankings."""

from hutong.quality.rules import Limits, RuleSetSpec
from hutong.quality.service.alerts import emit_alert, list_alerts, resolve_alert
from hutong.quality.service.common import Trigger, limits_of, may_read_details
from hutong.quality.service.evaluations import (
    evaluate,
    evaluate_due,
    evaluate_resource,
    get_evaluation,
    history,
    latest,
    store_evaluation,
)
from hutong.quality.service.quarantine import clear_quarantine, quarantine
from hutong.quality.service.rulesets import (
    add_rule,
    delete_rule,
    get_rules,
    load_spec,
    parse_rule_file,
    put_rules,
    spec_of,
)

__all__ = [
    "Limits",
    "RuleSetSpec",
    "Trigger",
    "add_rule",
    "clear_quarantine",
    "delete_rule",
    "emit_alert",
    "evaluate",
    "evaluate_due",
    "evaluate_resource",
    "get_evaluation",
    "get_rules",
    "history",
    "latest",
    "limits_of",
    "list_alerts",
    "load_spec",
    "may_read_details",
    "parse_rule_file",
    "put_rules",
    "quarantine",
    "resolve_alert",
    "spec_of",
    "store_evaluation",
]

"""The objections domain's logic (pages, API, CLI and jobs call these)."""

from hutong.objections.service.figures import confirmed_records, provider_figures
from hutong.objections.service.filing import (
    add_evidence,
    evidence_file,
    file_objection,
    get_objection,
    list_objections,
)
from hutong.objections.service.records import record_history, what_was_received
from hutong.objections.service.workflow import (
    appeal,
    decide,
    decide_appeal,
    decide_extension,
    escalate_overdue,
    request_extension,
)

__all__ = [
    "add_evidence",
    "appeal",
    "confirmed_records",
    "decide",
    "decide_appeal",
    "decide_extension",
    "escalate_overdue",
    "evidence_file",
    "file_objection",
    "get_objection",
    "list_objections",
    "provider_figures",
    "record_history",
    "request_extension",
    "what_was_received",
]

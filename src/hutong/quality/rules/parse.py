"""Reading rule files (YAML, or one rule as JSON) with each problem's line, and writing them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from hutong.core.errors import Invalid, Problem
from hutong.quality.rules.kinds import Rule, RuleSetSpec


class Limits(BaseModel):
    """Bounds on a rule file (settings carry the defaults)."""

    max_bytes: int = 256 * 1024
    max_rules: int = 200
    max_pattern: int = 200


_RULE = TypeAdapter(Rule)


def _refuse_aliases(text: str) -> None:
    """Anchors and aliases are refused: they are how YAML "billion laughs" bombs are built."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            line = event.start_mark.line + 1
            raise Invalid(
                "YAML anchors and aliases are not accepted in rule files",
                problems=[Problem(reason="anchor or alias", row=line)],
            )


def _rule_lines(text: str) -> tuple[list[int], list[dict[str, int]]]:
    """Line of each rule in ``rules:``, and of each key inside it (1-based)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    starts: list[int] = []
    keys: list[dict[str, int]] = []
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if getattr(key, "value", None) == "rules" and isinstance(value, yaml.SequenceNode):
                for item in value.value:
                    starts.append(item.start_mark.line + 1)
                    found: dict[str, int] = {}
                    if isinstance(item, yaml.MappingNode):
                        for k, _v in item.value:
                            found[str(k.value)] = k.start_mark.line + 1
                    keys.append(found)
    return starts, keys


def _loc_line(loc: Sequence[Any], starts: list[int], keys: list[dict[str, int]]) -> int | None:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int) and loc[1] < len(starts):
        index = loc[1]
        for part in loc[2:]:
            if isinstance(part, str) and part in keys[index]:
                return keys[index][part]
        return starts[index]
    return None


def parse_yaml(text: str | bytes, *, limits: Limits) -> tuple[RuleSetSpec, list[int]]:
    """Parse a rule file; returns the spec and each rule's line. Raises Invalid with lines."""
    if isinstance(text, bytes):
        if len(text) > limits.max_bytes:
            raise Invalid(f"the rule file is larger than {limits.max_bytes} bytes")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Invalid(f"the rule file is not UTF-8 (byte {exc.start})", field="rules") from exc
    if len(text.encode("utf-8")) > limits.max_bytes:
        raise Invalid(f"the rule file is larger than {limits.max_bytes} bytes")
    try:
        _refuse_aliases(text)
        data = yaml.safe_load(text)
        starts, keys = _rule_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise Invalid(
            f"the rule file is not valid YAML: {getattr(exc, 'problem', None) or exc}",
            problems=[Problem(reason=str(getattr(exc, "problem", exc)), row=line)],
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise Invalid("a rule file is a mapping with policy, cadence_hours and rules")
    rules = data.get("rules")
    if isinstance(rules, list) and len(rules) > limits.max_rules:
        raise Invalid(f"a rule set has at most {limits.max_rules} rules", field="rules")
    try:
        spec = RuleSetSpec.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(
                reason=f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}",
                row=_loc_line(e["loc"], starts, keys),
            )
            for e in exc.errors(include_url=False)[:50]
        ]
        raise Invalid(f"the rule file has {exc.error_count()} error(s)", problems=problems) from exc
    return spec, starts


def parse_rule(data: Any) -> Any:
    """One rule from JSON. Raises Invalid."""
    try:
        return _RULE.validate_python(data)
    except ValidationError as exc:
        problems = [
            Problem(reason=f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}")
            for e in exc.errors(include_url=False)[:50]
        ]
        raise Invalid("the rule is not valid", problems=problems) from exc


def dump_yaml(spec: RuleSetSpec) -> str:
    """The rule set as a readable YAML file."""
    data = spec.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
    for rule in data["rules"]:
        for key in ("description",):
            if not rule.get(key):
                rule.pop(key, None)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)

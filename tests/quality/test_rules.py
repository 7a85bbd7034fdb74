"""Declaring rules: a bad rule is refused with its reason and its YAML line."""

from __future__ import annotations

import pytest

from hutong.core.errors import Invalid
from hutong.core.security import SYSTEM
from hutong.quality import service
from hutong.quality.rules import Limits, parse_yaml
from hutong.quality.sql import check_select


def _put(world, settings, text):
    with world.db.session_scope() as s:
        spec, lines = service.parse_rule_file(
            text, content_type="application/yaml", settings=settings
        )
        return service.put_rules(
            session=s,
            actor=SYSTEM,
            resource_ref=world.resource,
            spec=spec,
            settings=settings,
            lines=lines,
        )


def _refused(world, settings, text) -> Invalid:
    with pytest.raises(Invalid) as caught:
        _put(world, settings, text)
    return caught.value


def test_the_crafted_rule_file_is_accepted(world, settings):
    stored = _put(world, settings, world.rules_yaml)
    assert stored.version == 1 and len(stored.rules) == 19 and stored.policy == "reject"


def test_a_missing_column_is_refused_with_its_line(world, settings):
    text = """\
policy: warn
rules:
  - kind: not_null
    columns: [pid]
  - kind: pattern
    column: nope
    pattern: 'a+'
"""
    err = _refused(world, settings, text)
    assert err.problems[0].row == 5
    assert "no column 'nope'" in err.problems[0].reason
    assert "line 5" in err.detail


def test_a_bad_parameter_is_refused_at_its_key(world, settings):
    text = """\
rules:
  - kind: range
    column: age
    min: 10
    max: 1
  - kind: length
    column: mobile
    min: -1
"""
    err = _refused(world, settings, text)
    assert err.problems[0].row == 8  # the schema error names the key's line
    text = "rules:\n  - kind: range\n    column: age\n    min: 10\n    max: 1\n"
    err = _refused(world, settings, text)
    assert err.problems[0].row == 2 and "min is greater than max" in err.problems[0].reason


@pytest.mark.parametrize(
    "rule, reason",
    [
        ("{kind: pattern, column: mobile, pattern: '(a'}", "not a valid regular expression"),
        ("{kind: pattern, column: mobile, pattern: '(?=a)b'}", "not supported"),
        ("{kind: pattern, column: mobile, pattern: '" + "a" * 300 + "'}", "longer than"),
        ("{kind: pattern, column: mobile, pattern: '(a+)+b'}", "exponential"),
        ("{kind: pattern, column: mobile, pattern: '([0-9]*)*'}", "exponential"),
        ("{kind: range, column: name, min: 1}", "numeric or date"),
        ("{kind: range, column: birth_date, min: 'yesterday'}", "ISO dates"),
        ("{kind: length, column: age, max: 3}", "text column"),
        ("{kind: check_digit, column: age, scheme: uscc}", "text column"),
        ("{kind: check_digit, column: card, scheme: iban}", "scheme"),
        ("{kind: allowed_values, column: district}", "either values or reference"),
        (
            "{kind: reference, column: district, resource: 'sh:nope:1-001', ref_column: name}",
            "no hosted resource",
        ),
        ("{kind: resident_id_consistency, column: resident_id}", "birth_date, sex or both"),
        ("{kind: field_compare, left: age, op: '<', right: birth_date}", "cannot compare"),
        ("{kind: timeliness, column: updated}", "max_age_days"),
        ("{kind: unknown_kind, column: age}", "kind"),
        ("{kind: not_null, columns: ['Robert\"; DROP TABLE x; --']}", "columns"),
    ],
)
def test_bad_rules_are_refused(world, settings, rule, reason):
    err = _refused(world, settings, f"rules:\n  - {rule}\n")
    text = err.detail + " ".join(p.reason for p in err.problems)
    assert reason in text
    assert err.problems[0].row == 2


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM data",
        "SELECT * FROM data; DROP TABLE data",
        "SELECT * FROM data UNION SELECT * FROM data",
        "SELECT * FROM organization",
        "SELECT * FROM main.data",
        "SELECT pg_read_file('/etc/passwd') FROM data",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * INTO copy FROM data",
        "SELECT * FROM data FOR UPDATE",
        "SELECT nope FROM data",
        "SELECT * FROM data WHERE pid IN (SELECT id FROM app_credential)",
        "WITH x AS (SELECT * FROM identity_user) SELECT * FROM x",
        "UPDATE data SET age = 1",
        "",
    ],
)
def test_custom_sql_must_be_a_single_read_only_select_of_data(sql):
    assert check_select(sql, ["pid", "age"]) is not None


def test_custom_sql_that_reads_data_is_accepted():
    ok = (
        "WITH old AS (SELECT pid, age FROM data WHERE age > 100) "
        "SELECT pid FROM old o WHERE o.age < 200"
    )
    assert check_select(ok, ["pid", "age"]) is None


@pytest.mark.parametrize(
    "text, reason",
    [
        ("a: &x [1]\nb: *x\n", "anchors and aliases"),
        ("rules: [" * 10 + "\n", "not valid YAML"),
        ("- just a list\n", "a mapping"),
        ("rules:\n  - kind: not_null\n    columns: [pid]\n  bad indent\n", "not valid YAML"),
    ],
)
def test_bad_yaml_is_refused(text, reason):
    with pytest.raises(Invalid) as caught:
        parse_yaml(text, limits=Limits())
    assert reason in caught.value.detail


def test_a_yaml_bomb_is_refused_before_it_expands():
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(9):
        this, prev = chr(98 + i), chr(97 + i)
        lines.append(f"{this}: &{this} [*{prev},*{prev},*{prev},*{prev}]")
    bomb = "\n".join(lines) + "\n"
    with pytest.raises(Invalid) as caught:
        parse_yaml(bomb, limits=Limits())
    assert caught.value.problems[0].row == 1


def test_oversized_and_undecodable_files_are_refused():
    with pytest.raises(Invalid, match="larger than"):
        parse_yaml(b"rules: []\n" + b"#" * 300_000, limits=Limits())
    with pytest.raises(Invalid, match="not UTF-8"):
        parse_yaml("rules: [{kind: not_null, columns: [名]}]".encode("gb18030"), limits=Limits())
    too_many = "rules:\n" + "  - {kind: not_null, columns: [pid]}\n" * 201
    with pytest.raises(Invalid, match="at most 200"):
        parse_yaml(too_many, limits=Limits())


def test_rule_ids_must_be_distinct(world, settings):
    text = (
        "rules:\n  - {id: a, kind: not_null, columns: [pid]}\n"
        "  - {id: a, kind: not_null, columns: [name]}\n"
    )
    err = _refused(world, settings, text)
    assert err.problems[0].row == 3 and "used twice" in err.problems[0].reason

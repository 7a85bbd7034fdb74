"""Parquet snapshots evaluated by DuckDB: the same compiled rules in one aggregate scan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from hutong.catalog.schemas import FieldSpec
from hutong.core.clock import utcnow
from hutong.core.errors import HutongError
from hutong.quality.compile import (
    Dialect,
    RowCheck,
    UniqueCheck,
    aggregate_sql,
    compile_rule,
)
from hutong.quality.evaluate.outcome import (
    RuleOutcome,
    outcome_of,
    row_count_check,
)


def evaluate_parquet(
    *,
    path: str,
    rules: Sequence[Any],
    fields: Sequence[FieldSpec],
    today: dt.date | None = None,
    threads: int | None = None,
) -> tuple[int, list[RuleOutcome]]:
    """Evaluate a Parquet snapshot of a table with DuckDB: the same compiled rules, one
    aggregate scan. Rules that read other tables (reference, custom SQL) are not run."""
    import duckdb

    today = today or utcnow().date()
    by_name = {f.name: f for f in fields}
    outcomes = {r.id: outcome_of(r) for r in rules}
    checks: list[tuple[Any, RowCheck | UniqueCheck]] = []

    def no_refs(resource_ref: str, column: str) -> str:
        raise HutongError("a snapshot is evaluated without other tables")

    for rule in rules:
        if rule.kind == "custom_sql":
            outcomes[rule.id].error = "a snapshot is evaluated without custom SQL"
            continue
        if rule.kind == "timeliness" and rule.column is None:
            outcomes[rule.id].error = "a snapshot does not know when its resource was loaded"
            continue
        try:
            check = compile_rule(
                rule, fields=by_name, dialect=Dialect("duckdb"), today=today, refs=no_refs
            )
        except HutongError as exc:
            outcomes[rule.id].error = exc.detail
            continue
        if check is not None:
            checks.append((rule, check))
    con = duckdb.connect()
    try:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        source = f"read_parquet({_duck_literal(path)})"
        counts = con.execute(aggregate_sql([c for _, c in checks], source)).fetchone()
    finally:
        con.close()
    assert counts is not None
    rows = int(counts[0] or 0)
    for i, (rule, _check) in enumerate(checks):
        out = outcomes[rule.id]
        out.checked, out.failed = int(counts[1 + 2 * i] or 0), int(counts[2 + 2 * i] or 0)
    for rule in rules:
        if rule.kind == "row_count":
            row_count_check(outcomes[rule.id], rule, rows, None)
    return rows, [outcomes[r.id] for r in rules]


def _duck_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"

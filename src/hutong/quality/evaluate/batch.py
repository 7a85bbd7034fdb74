"""Ingest batches evaluated by DuckDB over Arrow: counts, and which rows failed which rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from hutong.catalog import service as catalog_service
from hutong.catalog.schemas import FieldSpec
from hutong.core.clock import utcnow
from hutong.core.errors import HutongError
from hutong.quality.compile import (
    Dialect,
    RowCheck,
    UniqueCheck,
    compile_rule,
    flags_sql,
    quote,
)
from hutong.quality.evaluate.outcome import (
    RuleOutcome,
    masked_row,
    outcome_of,
    sample_columns,
    sql_text,
    whole_table,
)
from hutong.quality.sql import compile_select

GATE_ROW = "_gate_row"


@dataclass
class BatchVerdict:
    """The gate's reading of one batch: outcomes and which rows failed which rules."""

    outcomes: list[RuleOutcome]
    failing: pa.Array  # boolean per row: failed at least one row rule
    failed_rules: list[list[str]]  # per failing row, in row order, the rules it failed
    custom_failures: int = 0


class ReferenceValues:
    """Values of reference columns, read once per gate from the hosted tables."""

    def __init__(self, session: Session, max_values: int) -> None:
        self.session = session
        self.max_values = max_values
        self.tables: dict[tuple[str, str], pa.Table] = {}

    def get(self, resource_ref: str, column: str) -> pa.Table:
        key = (resource_ref, column)
        if key not in self.tables:
            ref = catalog_service.get_row(session=self.session, resource_ref=resource_ref)
            values: list[Any] = []
            if ref.table_name is not None:
                col = quote(column)
                sql = (
                    f"SELECT DISTINCT {col} FROM {quote(ref.table_name)} WHERE {col} IS NOT NULL "
                    f"LIMIT {self.max_values + 1}"
                )
                values = [r[0] for r in self.session.execute(sql_text(sql))]
            if len(values) > self.max_values:
                raise HutongError(
                    f"the reference column {resource_ref}.{column} has more than "
                    f"{self.max_values} values; the gate cannot load it"
                )
            self.tables[key] = (
                pa.table({"v": pa.array(values)})
                if values
                else pa.table({"v": pa.array([], pa.string())})
            )
        return self.tables[key]


def evaluate_batch(
    *,
    batch: pa.Table,
    rules: Sequence[Any],
    fields: Sequence[FieldSpec],
    references: ReferenceValues,
    sample_rows: int,
    first_row: int = 1,
    today: dt.date | None = None,
) -> BatchVerdict:
    """Evaluate a typed Arrow batch with DuckDB: per-rule counts and the failing rows."""
    import duckdb

    today = today or utcnow().date()
    by_name = {f.name: f for f in fields}
    dialect = Dialect("duckdb")
    outcomes = {r.id: outcome_of(r) for r in rules}
    con = duckdb.connect()
    try:
        registered: dict[tuple[str, str], str] = {}

        def refs(resource_ref: str, column: str) -> str:
            key = (resource_ref, column)
            if key not in registered:
                name = f"ref_{len(registered)}"
                con.register(name, references.get(resource_ref, column))
                registered[key] = name
            return f"SELECT v FROM {registered[key]}"

        checks: list[tuple[Any, RowCheck | UniqueCheck]] = []
        for rule in rules:
            if rule.kind == "custom_sql" or whole_table(rule):
                continue
            try:
                check = compile_rule(rule, fields=by_name, dialect=dialect, today=today, refs=refs)
            except HutongError as exc:
                outcomes[rule.id].error = exc.detail
                continue
            if check is not None:
                checks.append((rule, check))
        numbered = batch.append_column(GATE_ROW, pa.array(range(batch.num_rows), pa.int64()))
        con.register("batch", numbered)
        failing = pa.array([False] * batch.num_rows, pa.bool_())
        per_rule: list[tuple[str, pa.Array]] = []
        if checks:
            relation = con.sql(flags_sql([c for _, c in checks], "batch"))
            assert relation is not None
            flags = relation.to_arrow_table()
            for i, (rule, _check) in enumerate(checks):
                b = pc.fill_null(flags.column(f"b_{i}"), False)
                f = pc.fill_null(flags.column(f"f_{i}"), False).combine_chunks()
                out = outcomes[rule.id]
                out.checked = int(pc.sum(b).as_py() or 0)
                out.failed = int(pc.sum(f).as_py() or 0)
                if out.failed:
                    per_rule.append((rule.id, f))
                    failing = pc.or_(failing, f)
                    if sample_rows:
                        idx = pc.indices_nonzero(f).slice(0, sample_rows)
                        names = sample_columns(rule, fields)
                        part = batch.select(names).take(idx).to_pylist()
                        out.sample = [
                            {"row": first_row + int(n), **masked_row(r, by_name)}
                            for n, r in zip(idx.to_pylist(), part, strict=True)
                        ]
        custom_failures = 0
        for rule in rules:
            if rule.kind != "custom_sql":
                continue
            out = outcomes[rule.id]
            query = compile_select(rule.sql, table="batch", dialect="duckdb")
            try:
                found = con.execute(f"SELECT COUNT(*) FROM ({query}) AS custom_rule").fetchone()
            except duckdb.Error as exc:
                out.error = f"the query failed: {str(exc).splitlines()[0][:200]}"
                continue
            out.checked = batch.num_rows
            out.failed = min(int(found[0] if found else 0), batch.num_rows)
            custom_failures += out.failed
    finally:
        con.close()
    rows_failing = pc.indices_nonzero(failing).to_pylist()
    failed_rules: list[list[str]] = [[] for _ in rows_failing]
    position = {row: n for n, row in enumerate(rows_failing)}
    for rule_id, f in per_rule:
        for row in pc.indices_nonzero(f).to_pylist():
            failed_rules[position[row]].append(rule_id)
    return BatchVerdict(
        outcomes=[outcomes[r.id] for r in rules if not whole_table(r)],
        failing=failing,
        failed_rules=failed_rules,
        custom_failures=custom_failures,
    )

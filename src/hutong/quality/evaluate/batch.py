"""The one-pass evaluator: every row rule of a table counted in one scan.

A hosted table is evaluated where it lives (one aggregate SELECT on SQLite or
PostgreSQL); an ingest batch, already in memory as Arrow, is evaluated by DuckDB,
which also says which rows failed (for quarantine). Samples of failing rows are
bounded and masked. See docs/decisions/0008-quality-evaluator.md for the measurements.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import TextClause, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hutong.catalog import service as catalog_service
from hutong.catalog.models import Resource
from hutong.catalog.schemas import FieldSpec
from hutong.core.clock import utcnow
from hutong.core.errors import HutongError
from hutong.datastore import service as datastore_service
from hutong.datastore import tables
from hutong.privacy import masking
from hutong.quality.compile import (
    Dialect,
    RowCheck,
    UniqueCheck,
    aggregate_sql,
    compile_rule,
    flags_sql,
    quote,
    sqlite_regexp,
)
from hutong.quality.sql import compile_select

# 更新周期 in days: a resource is late when its last load is older than this (plus grace).
CYCLE_DAYS = {
    "realtime": 1,
    "daily": 1,
    "weekly": 7,
    "monthly": 31,
    "quarterly": 92,
    "yearly": 366,
}
EMPTY_SOURCE = "SELECT NULL WHERE 1 = 0"
GATE_ROW = "_gate_row"
_BIND_LIKE = re.compile(r":(?=\w)")


@dataclass
class RuleOutcome:
    """What one rule found: rows checked (B), rows failing, a masked sample, or an error."""

    rule_id: str
    kind: str
    dimension: str
    indicator: str
    checked: int = 0
    failed: int = 0
    error: str | None = None
    detail: str = ""
    sample: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "kind": self.kind,
            "dimension": self.dimension,
            "indicator": self.indicator,
            "checked": self.checked,
            "failed": self.failed,
            "error": self.error,
            "detail": self.detail,
            "sample": self.sample,
        }


def sql_text(sql: str) -> TextClause:
    """Generated SQL as a text clause: colons (as in the regex group ``(?:``) are not binds."""
    return text(_BIND_LIKE.sub(r"\\:", sql))


def _outcome(rule: Any) -> RuleOutcome:
    return RuleOutcome(
        rule_id=rule.id,
        kind=rule.kind,
        dimension=rule.dimension.value,
        indicator=rule.resolved_indicator.value,
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bytes):
        return value.hex()
    return value


def masked_row(row: dict[str, Any], fields: dict[str, FieldSpec]) -> dict[str, Any]:
    """A sample row fit for a report: personal information masked by its field's category."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        spec = fields.get(name)
        if value is not None and spec is not None and spec.pi_category is not None:
            out[name] = masking.mask(str(value), spec.pi_category.value)
        else:
            out[name] = _json_value(value)
    return out


def update_late(resource: Resource, *, now: dt.datetime, grace_days: int) -> bool | None:
    """Whether the resource missed its update cycle; None for an irregular cycle."""
    cycle = (resource.meta or {}).get("update_cycle", "irregular")
    days = CYCLE_DAYS.get(cycle)
    if days is None:
        return None
    last = resource.data_updated_at or resource.created_at
    return now - last > dt.timedelta(days=days + grace_days)


def whole_table(rule: Any) -> bool:
    """Rules about the whole table (row count, update cycle): the periodic job reads them."""
    return rule.kind == "row_count" or (rule.kind == "timeliness" and rule.column is None)


def _sample_columns(rule: Any, fields: Sequence[FieldSpec]) -> list[str]:
    keys = tables.key_names(fields)
    return list(dict.fromkeys([*keys, *rule.columns_used()]))


# hosted tables (SQLite, PostgreSQL) ---------------------------------------------------------


def _reference_source(session: Session) -> Any:
    def source(resource_ref: str, column: str) -> str:
        ref = catalog_service.get_row(session=session, resource_ref=resource_ref)
        if ref.table_name is None:
            return EMPTY_SOURCE
        col = quote(column)
        return f"SELECT {col} FROM {quote(ref.table_name)} WHERE {col} IS NOT NULL"

    return source


def prepare_connection(session: Session) -> Dialect:
    """The session's dialect; on SQLite, registers the regular-expression function."""
    connection = session.connection()
    name = connection.dialect.name
    if name == "sqlite":
        raw = connection.connection.driver_connection
        raw.create_function("hutong_regexp", 2, sqlite_regexp, deterministic=True)  # type: ignore[union-attr]
    return Dialect(name)


def evaluate_table(
    *,
    session: Session,
    resource: Resource,
    rules: Sequence[Any],
    sample_rows: int,
    grace_days: int,
    previous_rows: int | None = None,
    today: dt.date | None = None,
) -> tuple[int, list[RuleOutcome]]:
    """Evaluate a hosted table where it lives: one scan for every row rule, then the
    table-level rules. Returns (rows, outcomes)."""
    now = utcnow()
    today = today or now.date()
    fields = datastore_service.fields_of(resource)
    by_name = {f.name: f for f in fields}
    dialect = prepare_connection(session)
    outcomes = {r.id: _outcome(r) for r in rules}
    table_name = resource.table_name
    checks: list[tuple[Any, RowCheck | UniqueCheck]] = []
    refs = _reference_source(session)
    for rule in rules:
        try:
            check = compile_rule(rule, fields=by_name, dialect=dialect, today=today, refs=refs)
        except HutongError as exc:
            outcomes[rule.id].error = exc.detail
            continue
        if check is not None:
            checks.append((rule, check))
    rows = 0
    if table_name is not None:
        source = quote(table_name)
        sql = aggregate_sql([c for _, c in checks], source)
        counts = session.execute(sql_text(sql)).one()
        rows = int(counts[0] or 0)
        for i, (rule, check) in enumerate(checks):
            out = outcomes[rule.id]
            out.checked, out.failed = int(counts[1 + 2 * i] or 0), int(counts[2 + 2 * i] or 0)
            if out.failed and sample_rows:
                out.sample = _sample_hosted(session, source, rule, check, fields, sample_rows)
    for rule in rules:
        out = outcomes[rule.id]
        if rule.kind == "row_count":
            _row_count(out, rule, rows, previous_rows)
        elif rule.kind == "timeliness" and rule.column is None:
            late = update_late(resource, now=now, grace_days=grace_days)
            out.checked = 0 if late is None else 1
            out.failed = 1 if late else 0
            out.detail = "irregular update cycle: not checked" if late is None else ""
        elif rule.kind == "custom_sql" and table_name is not None:
            _custom_hosted(session, out, rule, table_name, dialect, rows, by_name, sample_rows)
    return rows, [outcomes[r.id] for r in rules]


def _row_count(out: RuleOutcome, rule: Any, rows: int, previous: int | None) -> None:
    out.checked = 1
    reasons = []
    if rows < rule.min:
        reasons.append(f"{rows} rows, fewer than {rule.min}")
    if rule.max_change is not None and previous:
        change = abs(rows - previous) / previous
        if change > rule.max_change:
            reasons.append(f"{rows} rows against {previous} before: a change of {change:.0%}")
    out.failed = 1 if reasons else 0
    out.detail = "; ".join(reasons)


def _sample_hosted(
    session: Session,
    source: str,
    rule: Any,
    check: RowCheck | UniqueCheck,
    fields: Sequence[FieldSpec],
    limit: int,
) -> list[dict[str, Any]]:
    names = _sample_columns(rule, fields)
    cols = ", ".join(quote(n) for n in names)
    if isinstance(check, UniqueCheck):
        where = (
            f"{check.checked} AND {check.key} IN (SELECT {check.key} FROM {source} "
            f"WHERE {check.checked} GROUP BY {check.key} HAVING COUNT(*) > 1)"
        )
    else:
        where = check.fails
    result = session.execute(
        sql_text(f"SELECT {cols} FROM {source} WHERE {where} LIMIT {int(limit)}")
    )
    by_name = {f.name: f for f in fields}
    return [masked_row(dict(zip(names, row, strict=True)), by_name) for row in result]


def _custom_hosted(
    session: Session,
    out: RuleOutcome,
    rule: Any,
    table_name: str,
    dialect: Dialect,
    rows: int,
    fields: dict[str, FieldSpec],
    sample_rows: int,
) -> None:
    query = compile_select(rule.sql, table=table_name, dialect=dialect.name)
    try:
        with session.begin_nested():
            failed = session.scalar(sql_text(f"SELECT COUNT(*) FROM ({query}) AS custom_rule"))
            result = session.execute(
                sql_text(f"SELECT * FROM ({query}) AS custom_rule LIMIT {int(sample_rows)}")
            )
            sample = [masked_row(dict(r._mapping), fields) for r in result]
    except DBAPIError as exc:
        out.error = f"the query failed: {str(exc.orig).splitlines()[0][:200]}"
        return
    out.checked, out.failed, out.sample = rows, min(int(failed or 0), rows), sample


# ingest batches (DuckDB over Arrow) ---------------------------------------------------------


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
    outcomes = {r.id: _outcome(r) for r in rules}
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
                        names = _sample_columns(rule, fields)
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


# snapshots (DuckDB over Parquet) -------------------------------------------------------------


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
    outcomes = {r.id: _outcome(r) for r in rules}
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
            _row_count(outcomes[rule.id], rule, rows, None)
    return rows, [outcomes[r.id] for r in rules]


def _duck_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"

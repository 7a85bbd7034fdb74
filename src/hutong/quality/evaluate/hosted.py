"""Hosted tables evaluated where they live: one aggregate SELECT on SQLite or PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hutong.catalog import service as catalog_service
from hutong.catalog.models import Resource
from hutong.catalog.schemas import FieldSpec
from hutong.core.clock import utcnow
from hutong.core.errors import HutongError
from hutong.datastore import service as datastore_service
from hutong.quality.compile import (
    Dialect,
    RowCheck,
    UniqueCheck,
    aggregate_sql,
    compile_rule,
    quote,
    sqlite_regexp,
)
from hutong.quality.evaluate.outcome import (
    RuleOutcome,
    masked_row,
    outcome_of,
    row_count_check,
    sample_columns,
    sql_text,
    update_late,
)
from hutong.quality.sql import compile_select

EMPTY_SOURCE = "SELECT NULL WHERE 1 = 0"


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
    outcomes = {r.id: outcome_of(r) for r in rules}
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
            row_count_check(out, rule, rows, previous_rows)
        elif rule.kind == "timeliness" and rule.column is None:
            late = update_late(resource, now=now, grace_days=grace_days)
            out.checked = 0 if late is None else 1
            out.failed = 1 if late else 0
            out.detail = "irregular update cycle: not checked" if late is None else ""
        elif rule.kind == "custom_sql" and table_name is not None:
            _custom_hosted(session, out, rule, table_name, dialect, rows, by_name, sample_rows)
    return rows, [outcomes[r.id] for r in rules]


def _sample_hosted(
    session: Session,
    source: str,
    rule: Any,
    check: RowCheck | UniqueCheck,
    fields: Sequence[FieldSpec],
    limit: int,
) -> list[dict[str, Any]]:
    names = sample_columns(rule, fields)
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

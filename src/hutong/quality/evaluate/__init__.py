"""The one-pass evaluator: every row rule of a table counted in one scan.

A hosted table is evaluated where it lives (one aggregate SELECT on SQLite or
PostgreSQL); an ingest batch, already in memory as Arrow, is evaluated by DuckDB,
which also says which rows failed (for quarantine). Samples of failing rows are
bounded and masked. See docs/decisions/0008-quality-evaluator.md for the measurements.
"""

from hutong.quality.evaluate.batch import (
    CYCLE_DAYS,
    EMPTY_SOURCE,
    GATE_ROW,
    BatchVerdict,
    ReferenceValues,
    RuleOutcome,
    _json_value,
    evaluate_batch,
    evaluate_parquet,
    evaluate_table,
    masked_row,
    prepare_connection,
    sql_text,
    update_late,
    whole_table,
)

__all__ = [
    "CYCLE_DAYS",
    "EMPTY_SOURCE",
    "GATE_ROW",
    "BatchVerdict",
    "ReferenceValues",
    "RuleOutcome",
    "_json_value",
    "evaluate_batch",
    "evaluate_parquet",
    "evaluate_table",
    "masked_row",
    "prepare_connection",
    "sql_text",
    "update_late",
    "whole_table",
]

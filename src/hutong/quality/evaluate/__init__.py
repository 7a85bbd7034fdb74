"""The one-pass evaluator: every row rule of a table counted in one scan.

A hosted table is evaluated where it lives (one aggregate SELECT on SQLite or
PostgreSQL); an ingest batch, already in memory as Arrow, is evaluated by DuckDB,
which also says which rows failed (for quarantine). Samples of failing rows are
bounded and masked. See docs/decisions/0008-quality-evaluator.md for the measurements.
"""

from hutong.quality.evaluate.batch import GATE_ROW, BatchVerdict, ReferenceValues, evaluate_batch
from hutong.quality.evaluate.hosted import EMPTY_SOURCE, evaluate_table, prepare_connection
from hutong.quality.evaluate.outcome import (
    CYCLE_DAYS,
    RuleOutcome,
    _json_value,
    masked_row,
    sql_text,
    update_late,
    whole_table,
)
from hutong.quality.evaluate.snapshot import evaluate_parquet

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

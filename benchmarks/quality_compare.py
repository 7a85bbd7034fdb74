"""The comparison tools of the quality benchmark, run inside their own venv.

    <venv>/bin/python benchmarks/quality_compare.py ge|pandera DATA.parquet CUTOFF RUNS

Prints one JSON object: the tool's version, the failing-row count per rule, and the best
of RUNS wall-clock times (reading the Parquet file included, as for every tool). Imports
nothing from hutong: Great Expectations and pandera live in a separate venv so that their
pins never meet the project's.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from typing import Any

MOBILE = r"^1[3-9][0-9]{9}$"
RESIDENT_ID = r"^[0-9]{17}[0-9X]$"
DISTRICTS = ["黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "浦东新区"]
NOT_NULL = ("name", "mobile", "resident_id", "district")


def run_ge(path: str, cutoff: dt.date) -> dict[str, int]:
    import great_expectations as gx
    import great_expectations.expectations as gxe
    import pandas as pd

    df = pd.read_parquet(path)
    df["updated"] = pd.to_datetime(df["updated"])  # Parquet dates arrive as Python objects
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("bench")
        .add_dataframe_asset("people")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": df})
    )
    expectations: dict[str, Any] = {
        **{f"not_null_{c}": gxe.ExpectColumnValuesToNotBeNull(column=c) for c in NOT_NULL},
        "unique_id": gxe.ExpectColumnValuesToBeUnique(column="id"),
        "mobile": gxe.ExpectColumnValuesToMatchRegex(column="mobile", regex=MOBILE),
        "resident_id": gxe.ExpectColumnValuesToMatchRegex(column="resident_id", regex=RESIDENT_ID),
        "age": gxe.ExpectColumnValuesToBeBetween(column="age", min_value=0, max_value=120),
        "district": gxe.ExpectColumnValuesToBeInSet(column="district", value_set=DISTRICTS),
        "amount": gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0),
        "updated": gxe.ExpectColumnValuesToBeBetween(
            column="updated", min_value=pd.Timestamp(cutoff)
        ),
        "row_count": gxe.ExpectTableRowCountToBeBetween(min_value=1),
    }
    suite = context.suites.add(gx.ExpectationSuite(name="bench"))
    for name, e in expectations.items():
        e.meta = {"bench": name}
        suite.add_expectation(e)
    result = batch.validate(suite, result_format="BASIC")
    counts: dict[str, int] = {}
    for r in result.results:
        name = r.expectation_config.meta["bench"]
        if name == "row_count":
            counts[name] = 0 if r.success else 1
        else:
            counts[name] = int(r.result["unexpected_count"])
    return counts


def run_pandera(path: str, cutoff: dt.date) -> dict[str, int]:
    import pandera.polars as pa
    import polars as pl

    df = pl.read_parquet(path)
    schema = pa.DataFrameSchema(
        {
            "id": pa.Column(str, unique=True),
            "name": pa.Column(str, nullable=False),
            "mobile": pa.Column(str, pa.Check.str_matches(MOBILE), nullable=False),
            "resident_id": pa.Column(str, pa.Check.str_matches(RESIDENT_ID), nullable=False),
            "district": pa.Column(str, pa.Check.isin(DISTRICTS), nullable=False),
            "age": pa.Column(int, pa.Check.in_range(0, 120), nullable=True),
            "amount": pa.Column(pl.Decimal(38, 10), pa.Check.ge(0), nullable=True),
            "updated": pa.Column(pl.Date, pa.Check.ge(cutoff), nullable=True),
        },
        checks=[pa.Check(lambda data: data.lazyframe.select(pl.len() > 0), name="row_count")],
    )
    counts = dict.fromkeys(
        [
            *(f"not_null_{c}" for c in NOT_NULL),
            "unique_id",
            "mobile",
            "resident_id",
            "age",
            "district",
            "amount",
            "updated",
            "row_count",
        ],
        0,
    )
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for row in cases.group_by(["column", "check"]).len().iter_rows(named=True):
            column, check, n = row["column"], str(row["check"]), int(row["len"])
            if check == "not_nullable":
                counts[f"not_null_{column}"] += n
            elif "unique" in check:
                counts["unique_id"] += n
            elif check == "row_count":
                counts["row_count"] += 1
            elif column in counts:
                counts[column] += n
    return counts


def main() -> None:
    tool, path, cutoff_text, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    cutoff = dt.date.fromisoformat(cutoff_text)
    fn = run_ge if tool == "ge" else run_pandera
    if tool == "ge":  # imports are not timed
        import great_expectations.expectations  # noqa: F401
        import pandas  # noqa: F401
    else:
        import pandera.polars  # noqa: F401
    best, counts = float("inf"), {}
    for _ in range(runs):
        start = time.perf_counter()
        counts = fn(path, cutoff)
        best = min(best, time.perf_counter() - start)
    if tool == "ge":
        import great_expectations

        version = f"great-expectations {great_expectations.__version__}"
    else:
        import pandera
        import polars

        version = f"pandera {pandera.__version__}, polars {polars.__version__}"
    print(json.dumps({"tool": tool, "version": version, "seconds": best, "counts": counts}))


if __name__ == "__main__":
    main()

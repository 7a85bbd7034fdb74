"""Quality evaluation of 5,000,000 rows x 12 rules, side by side (issue 5).

Rules: not-null on 4 columns, unique id, mobile pattern, resident-ID pattern, age range,
district in a set, amount >= 0, updated within 365 days, row count > 0.

- hutong: ``hutong.quality.evaluate.evaluate_parquet``, the compiled rules in one DuckDB
  aggregate scan over the Parquet snapshot; and, for the decision record, the same
  rules evaluated where a hosted table lives (``evaluate_table``: SQLite, and PostgreSQL
  when ``HUTONG_TEST_PG_URL`` is set) on the first 1,000,000 rows.
- one hand-written DuckDB query over the same Parquet file;
- Great Expectations 1.x (pandas) and pandera (polars), in their own venv (see
  ``venv()``), each reading the same Parquet file.

Every tool must report the same failing rows per rule; GE and pandera count every row of
a duplicated id (both rows of a pair), hutong and the query count the rows after the
first, so their unique counts are asserted at twice ours (the data's duplicates are pairs).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import best_of, fresh_database, pg_admin_url

ROWS = 5_000_000
IN_DB_ROWS = 1_000_000
RUNS = 3
GOAL_DUCKDB = 1.5  # hutong at most 1.5x the single DuckDB query
GOAL_GE = 10.0  # and at least 10x faster than Great Expectations
COMPARE_PINS = ("great-expectations==1.24.1", "pandera[polars]==0.35.0", "pyarrow==26.0.1")
DISTRICTS = ["黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "浦东新区"]
FIELDS = [
    {"name": "id", "label": "编号", "type": "string"},
    {"name": "name", "label": "姓名", "type": "string"},
    {"name": "mobile", "label": "手机", "type": "string"},
    {"name": "resident_id", "label": "身份证号", "type": "string"},
    {"name": "district", "label": "区", "type": "string"},
    {"name": "age", "label": "年龄", "type": "integer"},
    {"name": "amount", "label": "金额", "type": "decimal"},
    {"name": "updated", "label": "更新日期", "type": "date"},
]
RULES = """\
policy: warn
rules:
  - {id: not_null_name, kind: not_null, columns: [name]}
  - {id: not_null_mobile, kind: not_null, columns: [mobile]}
  - {id: not_null_resident_id, kind: not_null, columns: [resident_id]}
  - {id: not_null_district, kind: not_null, columns: [district]}
  - {id: unique_id, kind: unique, columns: [id]}
  - {id: mobile, kind: pattern, column: mobile, pattern: '1[3-9][0-9]{9}'}
  - {id: resident_id, kind: pattern, column: resident_id, pattern: '[0-9]{17}[0-9X]'}
  - {id: age, kind: range, column: age, min: 0, max: 120}
  - {id: district, kind: allowed_values, column: district, values: [DISTRICTS]}
  - {id: amount, kind: range, column: amount, min: 0}
  - {id: updated, kind: timeliness, column: updated, max_age_days: 365}
  - {id: row_count, kind: row_count, min: 1}
""".replace("DISTRICTS", ", ".join(DISTRICTS))


def _h(i: int) -> str:
    """A deterministic pseudo-random integer per row and salt (DuckDB's hash)."""
    return f"hash(i, {i})"


def make_parquet(path: Path, rows: int, today: dt.date) -> None:
    """The benchmark's data, made by DuckDB; duplicated ids come in pairs."""
    import duckdb

    districts = "[" + ", ".join(f"'{d}'" for d in DISTRICTS) + "]"
    sql = f"""
    COPY (
      SELECT
        'P' || lpad(CAST(CASE WHEN i % 2000 = 1 THEN i - 1 ELSE i END AS VARCHAR), 9, '0') AS id,
        CASE WHEN {_h(1)} % 100 = 0 THEN NULL ELSE '张' || CAST(i % 97 AS VARCHAR) END AS name,
        CASE WHEN {_h(2)} % 1000 < 10 THEN NULL
             WHEN {_h(2)} % 1000 < 15 THEN '12' || lpad(CAST(i % 1000000000 AS VARCHAR), 9, '0')
             ELSE '13' || lpad(CAST(i % 1000000000 AS VARCHAR), 9, '0') END AS mobile,
        CASE WHEN {_h(3)} % 1000 < 10 THEN NULL
             WHEN {_h(3)} % 1000 < 20 THEN 'ID' || CAST(i AS VARCHAR)
             ELSE '310101' || strftime(DATE '1950-01-01' + CAST({_h(8)} % 20000 AS INTEGER),
                  '%Y%m%d') || lpad(CAST(i % 1000 AS VARCHAR), 3, '0')
                  || CASE WHEN i % 11 = 0 THEN 'X' ELSE CAST(i % 10 AS VARCHAR) END
        END AS resident_id,
        CASE WHEN {_h(4)} % 1000 < 10 THEN NULL
             WHEN {_h(4)} % 1000 < 25 THEN '火星区'
             ELSE {districts}[1 + CAST({_h(5)} % 8 AS INTEGER)] END AS district,
        CAST({_h(6)} % 130 AS BIGINT) AS age,
        CAST((CAST({_h(7)} % 1000000 AS BIGINT) - 5000) / 100.0 AS DECIMAL(38, 10)) AS amount,
        DATE '{today.isoformat()}' - CAST({_h(9)} % 500 AS INTEGER) AS updated
      FROM range({rows}) t(i)
    ) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)
    """
    duckdb.connect().execute(sql)


def duckdb_query(path: Path, cutoff: dt.date) -> dict[str, int]:
    """The single hand-written DuckDB query."""
    import duckdb

    districts = ", ".join(f"'{d}'" for d in DISTRICTS)
    row = (
        duckdb.connect()
        .execute(
            f"""
        SELECT
          count(*) FILTER (WHERE name IS NULL),
          count(*) FILTER (WHERE mobile IS NULL),
          count(*) FILTER (WHERE resident_id IS NULL),
          count(*) FILTER (WHERE district IS NULL),
          count(id) - count(DISTINCT id),
          count(*) FILTER (WHERE NOT regexp_full_match(mobile, '1[3-9][0-9]{{9}}')),
          count(*) FILTER (WHERE NOT regexp_full_match(resident_id, '[0-9]{{17}}[0-9X]')),
          count(*) FILTER (WHERE age < 0 OR age > 120),
          count(*) FILTER (WHERE district NOT IN ({districts})),
          count(*) FILTER (WHERE amount < 0),
          count(*) FILTER (WHERE updated < DATE '{cutoff.isoformat()}'),
          CASE WHEN count(*) > 0 THEN 0 ELSE 1 END
        FROM read_parquet('{path}')
        """
        )
        .fetchone()
    )
    assert row is not None
    names = [
        "not_null_name",
        "not_null_mobile",
        "not_null_resident_id",
        "not_null_district",
        "unique_id",
        "mobile",
        "resident_id",
        "age",
        "district",
        "amount",
        "updated",
        "row_count",
    ]
    return dict(zip(names, (int(v) for v in row), strict=True))


def _spec() -> tuple[Any, Any]:
    from hutong.catalog.schemas import FieldSpec
    from hutong.quality.rules import Limits, check_rules, parse_yaml

    spec, lines = parse_yaml(RULES, limits=Limits())
    fields = [FieldSpec.model_validate(f) for f in FIELDS]
    check_rules(spec, fields=fields, refs=lambda _r: None, limits=Limits(), lines=lines)
    return spec, fields


def hutong_snapshot(path: Path, today: dt.date) -> dict[str, int]:
    """hutong's evaluator over the Parquet snapshot."""
    from hutong.quality.evaluate import evaluate_parquet

    spec, fields = _spec()
    _rows, outcomes = evaluate_parquet(path=str(path), rules=spec.rules, fields=fields, today=today)
    assert not [o for o in outcomes if o.error], [o.error for o in outcomes if o.error]
    return {o.rule_id: o.failed for o in outcomes}


def hutong_in_database(kind: str, workdir: Path, path: Path, today: dt.date) -> dict[str, Any]:
    """Load the first rows into a hosted table, then time ``evaluate_table`` there."""
    import duckdb

    from hutong.catalog import service as catalog_service
    from hutong.catalog.schemas import ResourceCreate
    from hutong.core.security import SYSTEM
    from hutong.datastore import service as datastore_service
    from hutong.identity import service as identity_service
    from hutong.identity.schemas import OrganizationCreate
    from hutong.quality.evaluate import evaluate_table

    sample = workdir / "in-db.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_parquet('{path}') LIMIT {IN_DB_ROWS}) TO '{sample}' "
        "(FORMAT parquet)"
    )
    db = fresh_database(kind, workdir, "hutong_bench_quality")
    uscc = "11310000MB2F1A0274"
    with db.session_scope() as s:
        identity_service.create_organization(
            session=s, data=OrganizationCreate(uscc=uscc, name="上海市公安局", short_name="police")
        )
        resource = catalog_service.create(
            session=s,
            actor=SYSTEM,
            data=ResourceCreate.model_validate(
                {
                    "code": "101001-00001",
                    "name": "人口",
                    "classification": "101001",
                    "abstract": "基准测试",
                    "provider": uscc,
                    "fields": FIELDS,
                    "sharing": {"type": "unconditional"},
                    "opening": {"type": "open"},
                    "hosted": True,
                }
            ),
        ).id
    with db.session_scope() as s:
        datastore_service.ingest_file(session=s, actor=SYSTEM, resource_ref=resource, path=sample)
    spec, _fields = _spec()
    counts: dict[str, int] = {}

    def once() -> None:
        with db.session_scope(readonly=True) as s:
            row = catalog_service.get_row(session=s, resource_ref=resource)
            _n, outcomes = evaluate_table(
                session=s, resource=row, rules=spec.rules, sample_rows=0, grace_days=1, today=today
            )
            counts.update({o.rule_id: o.failed for o in outcomes})

    seconds = best_of(2, once)
    expected = duckdb_query(sample, today - dt.timedelta(days=365))
    assert counts == expected, (kind, counts, expected)
    snapshot = workdir / f"snapshot-{kind}.parquet"
    from hutong.quality.evaluate import evaluate_parquet

    def export_then_duckdb() -> None:
        import pyarrow.parquet as pq

        with db.session_scope(readonly=True) as s:
            schema, batches = datastore_service.export_batches(session=s, resource_ref=resource)
            with pq.ParquetWriter(snapshot, schema) as writer:
                for batch in batches:
                    writer.write_batch(batch)
        evaluate_parquet(path=str(snapshot), rules=spec.rules, fields=_fields, today=today)

    via_snapshot = best_of(2, export_then_duckdb)
    db.dispose()
    return {
        "backend": kind,
        "rows": IN_DB_ROWS,
        "seconds": seconds,
        "snapshot_seconds": via_snapshot,
    }


CHECK_DIGIT_ROWS = 1_000_000


def check_digits(workdir: Path, today: dt.date) -> dict[str, float]:
    """Resident-ID check (check character and birth date) over 1,000,000 values: hutong's SQL
    arithmetic in DuckDB, against python-stdnum called per value over the Arrow column (the
    least a Python UDF would cost; DuckDB's Python UDFs also need numpy)."""
    import duckdb

    from hutong.privacy.detect import resident_id_info
    from hutong.quality.compile import Dialect, resident_id_valid

    path = workdir / "ids.parquet"
    make_parquet(path, CHECK_DIGIT_ROWS, today)
    con = duckdb.connect()
    con.sql(f"CREATE TABLE ids AS SELECT resident_id AS v FROM read_parquet('{path}')")
    valid = resident_id_valid(Dialect("duckdb"), "v", today)
    expr = f"CASE WHEN v IS NULL THEN FALSE ELSE {valid} END"
    found: dict[str, int] = {}

    def in_sql() -> None:
        relation = con.sql(f"SELECT count(*) FILTER (WHERE {expr}) FROM ids")
        assert relation is not None
        found["sql"] = int(relation.fetchall()[0][0])

    def in_python() -> None:
        relation = con.sql("SELECT v FROM ids")
        assert relation is not None
        values = relation.to_arrow_table().column("v").to_pylist()
        found["python"] = sum(1 for v in values if v is not None and resident_id_info(v))

    results = {
        "SQL arithmetic in DuckDB (hutong)": best_of(3, in_sql),
        "python-stdnum per value over the Arrow column": best_of(3, in_python),
    }
    con.close()
    assert found["sql"] == found["python"], found
    return results


def venv() -> Path:
    """The comparison tools' venv: ``HUTONG_BENCH_VENV``, else ~/.cache/hutong/bench-quality-venv;
    created with this Python and the pinned tools on first use."""
    where = Path(
        os.environ.get("HUTONG_BENCH_VENV")
        or Path.home() / ".cache" / "hutong" / "bench-quality-venv"
    )
    python = where / "bin" / "python"
    if not python.exists():
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(where)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *COMPARE_PINS], check=True)
    return python


def compare_tool(tool: str, path: Path, cutoff: dt.date, runs: int) -> dict[str, Any]:
    script = Path(__file__).with_name("quality_compare.py")
    out = subprocess.run(
        [str(venv()), str(script), tool, str(path), cutoff.isoformat(), str(runs)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{tool} failed: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def bench(workdir: Path, *, rows: int = ROWS) -> dict[str, Any]:
    """Run every side on the same data; assert identical failure counts; return figures."""
    today = dt.date.today()
    cutoff = today - dt.timedelta(days=365)
    path = workdir / "people.parquet"
    start = time.perf_counter()
    make_parquet(path, rows, today)
    made = time.perf_counter() - start
    expected = duckdb_query(path, cutoff)
    duck_s = best_of(RUNS, lambda: duckdb_query(path, cutoff))
    ours: dict[str, int] = {}
    hutong_s = best_of(RUNS, lambda: ours.update(hutong_snapshot(path, today)))
    assert ours == expected, (ours, expected)
    tools = []
    for tool, runs in (("pandera", RUNS), ("ge", 1)):
        result = compare_tool(tool, path, cutoff, runs)
        counts = dict(result["counts"])
        counts["unique_id"] //= 2  # every row of a duplicated pair, against rows after the first
        assert counts == expected, (tool, counts, expected)
        tools.append(result)
    in_db = [hutong_in_database("sqlite", workdir, path, today)]
    if pg_admin_url():
        in_db.append(hutong_in_database("postgresql", workdir, path, today))
    digits = check_digits(workdir, today)
    ge_s = next(t["seconds"] for t in tools if t["tool"] == "ge")
    return {
        "rows": rows,
        "made_s": made,
        "parquet_mb": path.stat().st_size / 1e6,
        "failures": expected,
        "duckdb_s": duck_s,
        "hutong_s": hutong_s,
        "tools": tools,
        "in_db": in_db,
        "check_digits": digits,
        "vs_duckdb": hutong_s / duck_s,
        "vs_ge": ge_s / hutong_s,
    }

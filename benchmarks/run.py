"""`make bench`: run the benchmarks and write docs/benchmarks.md's figures for this run.

    python -m benchmarks.run                        # every benchmark
    python -m benchmarks.run audit  # only those named: ingest, audit, gateway, quality
    python -m benchmarks.run ingest --rows 100000   # a smaller ingest

Each benchmark rewrites its own marked section of the doc as soon as it has finished.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import audit, gateway, ingest, quality
from benchmarks.common import machine

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def _marks(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_section(name: str, body: list[str]) -> None:
    """Replace the doc's section between the name's markers (or add it at the end)."""
    start, end = _marks(name)
    section = "\n".join([start, *body, end])
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")


def _met(ok: bool) -> str:
    return "met" if ok else "**NOT met**"


# --- ingest -------------------------------------------------------------------------------


def _ingest_section(results: list[dict], when: str, where: str) -> list[str]:
    lines = [
        f"Measured {when} on {where}; best of two runs; {results[0]['rows']:,} rows x 6 columns "
        f"(text key, Chinese text, date, text, integer, decimal), "
        f"{results[0]['csv_bytes'] / 1e6:.0f} MB CSV.",
        "",
        "| backend | bulk loader | loader rows/s | hutong ingest rows/s | ratio | goal |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['baseline']} | {r['baseline_rps']:,.0f} | "
            f"{r['hutong_rps']:,.0f} | {r['ratio']:.2f}x | >= 0.5x "
            f"{'met' if r['ratio'] >= 0.5 else 'NOT met'} |"
        )
    return lines


def run_ingest(workdir: Path, when: str, where: str, *, rows: int) -> None:
    results = ingest.bench(workdir, rows=rows)
    for r in results:
        print(
            f"ingest {r['backend']}: {r['baseline']} {r['baseline_rps']:,.0f} rows/s, "
            f"hutong {r['hutong_rps']:,.0f} rows/s ({r['ratio']:.2f}x)"
        )
    write_section("ingest", _ingest_section(results, when, where))


# --- audit --------------------------------------------------------------------------------


def _writers(r: dict[str, Any]) -> str:
    """The writers of an append run, e.g. ``64 threads`` or ``2 processes x 512 asyncio tasks``."""
    mode = r["mode"]
    if mode.startswith("processes"):
        procs = int(mode[len("processes") :])
        return f"{procs} processes x {r['writers'] // procs} asyncio tasks, writer threads"
    if mode.startswith("keeper"):
        procs = int(mode[len("keeper") :])
        return f"{procs} processes x {r['writers'] // procs} asyncio tasks, one keeper"
    return f"{r['writers']} {'threads' if mode == 'threads' else 'asyncio tasks'}"


def _audit_section(result: dict[str, Any], when: str, where: str) -> list[str]:
    proofs = result["proofs"]
    load = ", ".join(f"{x:.1f}" for x in result["load"])
    lines = [
        f"Measured {when} on {where}; load average (1 min) at the start and the end: {load}.",
        "",
        f"Appends: each run lasts until {audit.ENTRIES:,} entries or "
        f"{audit.APPEND_SECONDS:.0f} s of requests (1 to 10 events each), plus the last "
        f"checkpoint; SQLite in WAL mode with `synchronous=FULL`; best of {audit.RUNS} runs "
        "for each side (entries and commits: hutong's best run).",
        "",
        "| backend | writers | entries | entries per commit | checkpoints "
        "| CPU µs per entry | hutong entries/s | plain inserts/s | ratio | >= 50,000/s "
        "| >= 0.5x |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in result["appends"]:
        absolute = (
            _met(r["rate"] >= audit.GOAL_APPENDS) if r["backend"] == "SQLite" else "(SQLite goal)"
        )
        lines.append(
            f"| {r['backend']} | {_writers(r)} | {r['entries']:,} | "
            f"{r['batch']:.0f} | "
            f"{r['checkpoints']} | {r['cpu_us']:.1f} | {r['rate']:,.0f} | {r['plain_rate']:,.0f} | "
            f"{r['ratio']:.2f}x | {absolute} | {_met(r['ratio'] >= audit.GOAL_RATIO)} |"
        )
    lines += [
        "",
        f"Verification of the log the last append run built, best of {audit.RUNS}:",
        "",
        "| backend | entries | checkpoints | workers | `verify_database` entries/s "
        "| `export_jsonl` entries/s | `verify_export` entries/s | >= 500,000/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for v in result["verify"]:
        lines.append(
            f"| {v['backend']} | {v['entries']:,} | {v['checkpoints']} | {v['workers']} | "
            f"{v['verify_rate']:,.0f} | {v['entries'] / v['export_s']:,.0f} | "
            f"{v['verify_export_rate']:,.0f} | {_met(v['verify_rate'] >= audit.GOAL_VERIFY)} |"
        )
    lines += [
        "",
        f"Inclusion proofs on a {proofs['size']:,}-entry SQLite log "
        f"({proofs['db_bytes'] / 2**30:.1f} GiB, built in {proofs['build_s']:.0f} s), "
        f"{proofs['proofs']:,} random leaves, each proof checked; the better of "
        f"{audit.PROOF_ROUNDS} rounds:",
        "",
        "| `prove_inclusion` median | p99 | max | CPU median | CPU p99 | hashes per proof "
        "| <= 5 ms (median) | <= 5 ms (p99) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        f"| {proofs['median_ms']:.2f} ms | {proofs['p99_ms']:.2f} ms | "
        f"{proofs['max_ms']:.2f} ms | {proofs['cpu_median_ms']:.2f} ms | "
        f"{proofs['cpu_p99_ms']:.2f} ms | {proofs['hashes']} | "
        f"{_met(proofs['median_ms'] <= audit.GOAL_PROOF_MS)} | "
        f"{_met(proofs['p99_ms'] <= audit.GOAL_PROOF_MS)} |",
    ]
    return lines


def run_audit(workdir: Path, when: str, where: str) -> bool:
    load = os.getloadavg()[0]
    result = audit.bench(workdir)
    result["load"] = (load, os.getloadavg()[0])
    for r in result["appends"]:
        print(
            f"audit appends {r['backend']}, {_writers(r)}: {r['rate']:,.0f} entries/s "
            f"({r['batch']:.0f} per commit, {r['cpu_us']:.1f} µs CPU per entry), "
            f"plain {r['plain_rate']:,.0f}/s ({r['ratio']:.2f}x)"
        )
    for v in result["verify"]:
        print(
            f"audit verify {v['backend']}: {v['verify_rate']:,.0f} entries/s, "
            f"export verify {v['verify_export_rate']:,.0f} entries/s"
        )
    p = result["proofs"]
    if p is None or not result["verify"] or result.get("partial"):
        print("audit: a partial run (HUTONG_BENCH_AUDIT_*); the doc is left as it was")
        return False
    print(
        f"audit proofs on {p['size']:,} entries: median {p['median_ms']:.2f} ms, "
        f"p99 {p['p99_ms']:.2f} ms (built in {p['build_s']:.0f} s)"
    )
    write_section("audit", _audit_section(result, when, where))
    return True


# --- gateway ------------------------------------------------------------------------------


def _gateway_section(results: list[dict[str, Any]], when: str, where: str) -> list[str]:
    quick = " (quick run: HUTONG_BENCH_QUICK=1)" if gateway.QUICK else ""
    lines = [
        f"Measured {when} on {where}{quick}; load average (1 min) at the start and the end: "
        f"{', '.join(f'{x:.1f}' for x in results[0]['load'])}.",
        "",
        f"Key lookups: wrk, {gateway.CONNECTIONS} connections, {gateway.LOAD_S} s after a "
        f"{gateway.WARMUP_S} s warm-up; both servers uvicorn with {gateway.WORKERS} workers, "
        f"uvloop and httptools; {gateway.ROWS:,}-row hosted table, random existing keys.",
        "",
        "| backend | endpoint | requests/s | p50 | p99 | errors | server CPU per request "
        "| ratio | >= 0.4x | p99 <= 20 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        h, g = r["hello"], r["gateway"]
        lines.append(
            f"| {r['backend']} | bare Starlette hello world | {h['rps']:,.0f} | "
            f"{h['p50_ms']:.1f} ms | {h['p99_ms']:.1f} ms | {h['errors']} | "
            f"{h['cpu_ms']:.2f} ms | | | |"
        )
        lines.append(
            f"| {r['backend']} | gateway lookup (authorized, masked, audited) | "
            f"{g['rps']:,.0f} | {g['p50_ms']:.1f} ms | {g['p99_ms']:.1f} ms | {g['errors']} | "
            f"{g['cpu_ms']:.2f} ms | {r['ratio']:.2f}x | "
            f"{_met(r['ratio'] >= gateway.GOAL_RATIO)} | "
            f"{_met(g['p99_ms'] <= gateway.GOAL_P99_MS)} |"
        )
    lines += [
        "",
        f"Bulk masked snapshot of the {gateway.ROWS:,}-row table as Arrow IPC over HTTP "
        f"(best of {gateway.BULK_RUNS}):",
        "",
        "| backend | rows/s | server CPU per million rows | client CPU per million rows "
        "| >= 2,500,000 rows/s |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        b = r["bulk"]
        lines.append(
            f"| {r['backend']} | {r['bulk_rps']:,.0f} | {b['server_cpu_s']:.2f} s | "
            f"{b['client_cpu_s']:.2f} s | {_met(r['bulk_rps'] >= gateway.GOAL_BULK)} |"
        )
    return lines


def run_gateway(workdir: Path, when: str, where: str) -> bool:
    load = os.getloadavg()[0]
    results = gateway.bench(workdir)
    for r in results:
        r["load"] = (load, os.getloadavg()[0])
        if "gateway" in r:
            h, g = r["hello"], r["gateway"]
            print(
                f"gateway {r['backend']}: lookups {g['rps']:,.0f}/s p99 {g['p99_ms']:.1f} ms, "
                f"hello {h['rps']:,.0f}/s p99 {h['p99_ms']:.1f} ms ({r['ratio']:.2f}x)"
            )
        if "bulk_rps" in r:
            b = r["bulk"]
            print(
                f"gateway {r['backend']}: bulk {r['bulk_rps']:,.0f} rows/s, CPU per million "
                f"rows: server {b['server_cpu_s']:.2f} s, client {b['client_cpu_s']:.2f} s "
                f"(load {load:.1f} at the start)"
            )
    if all("gateway" in r and "bulk_rps" in r for r in results):
        write_section("gateway", _gateway_section(results, when, where))
        return True
    # one part only (HUTONG_BENCH_GATEWAY_PARTS): printed, the doc keeps a full run
    print("gateway: one part only, docs/benchmarks.md left as it is")
    return False


# --- quality ------------------------------------------------------------------------------


def _quality_section(r: dict[str, Any], when: str, where: str) -> list[str]:
    failures = ", ".join(f"{k} {v:,}" for k, v in r["failures"].items())
    lines = [
        f"Measured {when} on {where}; {r['rows']:,} rows x 12 rules, one Parquet file "
        f"({r['parquet_mb']:.0f} MB, zstd) read by every side; best of {quality.RUNS} runs "
        "(Great Expectations: one run). Every side found the same failing rows per rule: "
        f"{failures}.",
        "",
        "| side | version | seconds | hutong is |",
        "| --- | --- | ---: | --- |",
        f"| hutong `evaluate_parquet` (compiled rules, one DuckDB scan) | | "
        f"{r['hutong_s']:.2f} | |",
        f"| hand-written DuckDB query | | {r['duckdb_s']:.2f} | {r['vs_duckdb']:.2f}x its time "
        f"(goal <= {quality.GOAL_DUCKDB}x: {_met(r['vs_duckdb'] <= quality.GOAL_DUCKDB)}) |",
    ]
    for t in r["tools"]:
        name = "Great Expectations (pandas)" if t["tool"] == "ge" else "pandera (polars)"
        ratio = t["seconds"] / r["hutong_s"]
        goal = (
            f" (goal >= {quality.GOAL_GE:g}x: {_met(ratio >= quality.GOAL_GE)})"
            if t["tool"] == "ge"
            else ""
        )
        lines.append(
            f"| {name} | {t['version']} | {t['seconds']:.2f} | {ratio:.1f}x faster{goal} |"
        )
    lines += [
        "",
        f"The same rules evaluated where a hosted table lives (`evaluate_table`, one "
        f"aggregate SELECT), first {quality.IN_DB_ROWS:,} rows, best of 2:",
        "",
        "| backend | rows | in the database: seconds | rows/s "
        "| export to Parquet + DuckDB: seconds |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for d in r["in_db"]:
        lines.append(
            f"| {d['backend']} | {d['rows']:,} | {d['seconds']:.2f} | "
            f"{d['rows'] / d['seconds']:,.0f} | {d['snapshot_seconds']:.2f} |"
        )
    lines += [
        "",
        f"Resident-ID check (check character and birth date) over "
        f"{quality.CHECK_DIGIT_ROWS:,} values in DuckDB, best of 3, same count each:",
        "",
        "| how | seconds |",
        "| --- | ---: |",
    ]
    for name, seconds in r["check_digits"].items():
        lines.append(f"| {name} | {seconds:.2f} |")
    return lines


def run_quality(workdir: Path, when: str, where: str, *, rows: int) -> None:
    result = quality.bench(workdir, rows=rows)
    print(
        f"quality: hutong {result['hutong_s']:.2f} s, DuckDB query {result['duckdb_s']:.2f} s "
        f"({result['vs_duckdb']:.2f}x), GE {result['vs_ge']:.1f}x slower"
    )
    write_section("quality", _quality_section(result, when, where))


# --- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="ingest, audit, gateway, quality (default: all)"
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the ingest CSV")
    parser.add_argument(
        "--quality-rows", type=int, default=quality.ROWS, help="rows of the quality benchmark"
    )
    args = parser.parse_args(argv)
    runners: dict[str, Callable[[Path, str, str], bool | None]] = {
        "ingest": lambda w, when, where: run_ingest(w, when, where, rows=args.rows),
        "audit": run_audit,
        "gateway": run_gateway,
        "quality": lambda w, when, where: run_quality(w, when, where, rows=args.quality_rows),
    }
    unknown = [n for n in args.names if n not in runners]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(runners)}")
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    where = machine()
    print(f"benchmarks on {where}")
    for name in args.names or list(runners):
        with tempfile.TemporaryDirectory(prefix="hutong-bench-") as tmp:
            wrote = runners[name](Path(tmp), when, where)
        if wrote is not False:  # partial runs print their figures and leave the doc
            print(f"{name} figures written to {DOC.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

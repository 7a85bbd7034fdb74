"""`make bench`: run the benchmarks and write docs/benchmarks.md's figures for this run."""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

from benchmarks import ingest
from benchmarks.common import machine

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
MARK_START = "<!-- ingest:start -->"
MARK_END = "<!-- ingest:end -->"


def _ingest_section(results: list[dict], when: str, where: str) -> str:
    lines = [
        MARK_START,
        f"Measured {when} on {where}; best of two runs; 1,000,000 rows x 6 columns "
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
    lines.append(MARK_END)
    return "\n".join(lines)


def main() -> int:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    where = machine()
    print(f"benchmarks on {where}")
    with tempfile.TemporaryDirectory(prefix="hutong-bench-") as tmp:
        results = ingest.bench(Path(tmp), rows=int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
    for r in results:
        print(
            f"ingest {r['backend']}: {r['baseline']} {r['baseline_rps']:,.0f} rows/s, "
            f"hutong {r['hutong_rps']:,.0f} rows/s ({r['ratio']:.2f}x)"
        )
    section = _ingest_section(results, when, where)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if MARK_START in text:
        head, rest = text.split(MARK_START, 1)
        text = head + section + rest.split(MARK_END, 1)[1]
    else:
        text += "\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")
    print(f"figures written to {DOC.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``hutong pi``: scan files for personal-information columns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hutong.cli.common import _fail, console
from hutong.core.errors import HutongError
from hutong.core.settings import get_settings

pi_app = typer.Typer(help="Personal information: scan files for PI columns.", no_args_is_help=True)


@pi_app.command("scan")
def pi_scan(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    sample: Annotated[int | None, typer.Option(help="Rows to sample (default: setting)")] = None,
    format: Annotated[str | None, typer.Option(help="csv, xlsx, jsonl or parquet")] = None,
) -> None:
    """Propose a personal-information category for each column of a file."""
    from hutong.privacy.scan import scan_file

    sample = sample or get_settings().pi_scan_sample_rows
    try:
        proposals = scan_file(file, sample=sample, format=format)
    except HutongError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(proposals, ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    table = Table("column", "category", "confidence", "checked", "hint")
    for p in proposals:
        table.add_row(
            p["column"],
            p["category"] or "-",
            f"{p['confidence']:.0%}",
            str(p["checked"]),
            p.get("hint", ""),
        )
    console.print(table)

"""What every command shares: the consoles, the --home option, settings, database, errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from hutong.core.errors import HutongError
from hutong.core.settings import Settings, get_settings

console = Console()
err = Console(stderr=True)

HomeOption = Annotated[
    Path | None, typer.Option("--home", help="Node home (default $HUTONG_HOME or ./var)")
]


def _settings(home: Path | None) -> Settings:
    """The settings, read afresh (``--home`` overrides ``$HUTONG_HOME``)."""
    if home is not None:
        os.environ["HUTONG_HOME"] = str(home)
    get_settings.cache_clear()
    return get_settings()


def _database(settings: Settings) -> Any:
    """The node's database, migrated to the newest revision."""
    from hutong.core.database import Database
    from hutong.core.migrate import upgrade

    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    upgrade(db.engine)
    return db


def _fail(exc: HutongError) -> None:
    """Print the error and its problems (the first 20) to stderr, and exit with status 1."""
    err.print(f"[red]error:[/red] {exc.detail}")
    for p in exc.problems[:20]:
        where = ", ".join(
            x
            for x in (f"row {p.row}" if p.row else "", f"column {p.column}" if p.column else "")
            if x
        )
        err.print(f"  - {where + ': ' if where else ''}{p.reason}")
    if len(exc.problems) > 20 or exc.extra.get("problem_count", 0) > len(exc.problems):
        err.print(f"  … {exc.extra.get('problem_count', len(exc.problems))} problems in all")
    raise typer.Exit(1)


def _count_progress(quiet: bool) -> Progress:
    """A progress display counting entries (silent when the output is JSON)."""
    return Progress(
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} entries"),
        console=err,
        disable=quiet,
        transient=True,
    )


def _progress() -> Progress:
    """A progress bar over the bytes of a file being loaded, with the rows so far."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeRemainingColumn(),
        console=err,
    )

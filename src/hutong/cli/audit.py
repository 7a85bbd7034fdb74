"""``hutong audit``: verify the log, export it, sign checkpoints, archive past months."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from hutong.cli.common import HomeOption, _count_progress, _database, _fail, _settings, console, err
from hutong.core.errors import HutongError

audit_app = typer.Typer(help="The audit log: verify, export, checkpoints.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    home: HomeOption = None,
    offline: Annotated[
        Path | None, typer.Option(help="Verify an export file instead of the database")
    ] = None,
    pubkey: Annotated[
        str | None, typer.Option(help="Verifier key (text or a file holding it), with --offline")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    workers: Annotated[
        int, typer.Option(help="Processes that read and hash the log (default: one per core)")
    ] = 0,
) -> None:
    """Recompute the log and check every signed checkpoint; name the first bad entry."""
    from hutong.audit import verify as audit_verify_mod

    if offline is not None:
        if not pubkey:
            err.print("[red]error:[/red] --offline needs --pubkey (the node's verifier key)")
            raise typer.Exit(2)
        key = Path(pubkey).read_text().strip() if Path(pubkey).is_file() else pubkey.strip()
        report = audit_verify_mod.verify_export(offline, key)
    else:
        settings = _settings(home)
        db = _database(settings)
        with db.session_scope(readonly=True) as session, _count_progress(as_json) as progress:
            task = progress.add_task("verifying the audit log", total=None)
            report = audit_verify_mod.verify_database(
                session=session,
                keys_dir=settings.keys_dir,
                home=settings.home,
                workers=workers or os.cpu_count() or 1,
                progress=lambda n: progress.update(task, completed=n),
            )
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    elif report.ok:
        console.print(
            f"[green]ok[/green]: {report.entries:,} entries and "
            f"{report.checkpoints:,} signed checkpoints verify "
            f"({report.seconds:.2f} s)"
        )
    else:
        err.print(f"[red]FAILED[/red]: {report.problem}")
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    out: Annotated[Path, typer.Argument(help="Output file (JSON Lines)")],
    home: HomeOption = None,
) -> None:
    """Write every entry with its signed checkpoints, for offline verification."""
    from hutong.audit import verify as audit_verify_mod

    settings = _settings(home)
    db = _database(settings)
    with db.session_scope(readonly=True) as session, out.open("w", encoding="utf-8") as fh:
        count = audit_verify_mod.export_jsonl(session=session, keys_dir=settings.keys_dir, out=fh)
        vkey = audit_verify_mod.node_vkey(session=session, keys_dir=settings.keys_dir)
    console.print(f"exported {count:,} entries to {out}")
    console.print(f"verify with: hutong audit verify --offline {out} --pubkey '{vkey}'")


@audit_app.command("checkpoint")
def audit_checkpoint(home: HomeOption = None) -> None:
    """Sign a checkpoint now over every entry written so far."""
    from hutong.audit import checkpoints as audit_checkpoints

    settings = _settings(home)
    db = _database(settings)
    with db.session_scope() as session:
        cp, _ = audit_checkpoints.checkpoint_now(session, keys_dir=settings.keys_dir)
        size = cp.tree_size if cp else None
    console.print(
        f"signed checkpoint at size {size:,}"
        if size is not None
        else "no new entries since the last checkpoint"
    )


@audit_app.command("archive")
def audit_archive(
    month: Annotated[str, typer.Option(help="The month to archive, YYYY-MM (and all before it)")],
    home: HomeOption = None,
) -> None:
    """Move the entry bytes of a past month to compressed Parquet; proofs stay verifiable."""
    from hutong.audit import archive as audit_archive_mod

    settings = _settings(home)
    db = _database(settings)
    try:
        with db.session_scope() as session:
            record = audit_archive_mod.archive_month(
                session=session, home=settings.home, month=month
            )
            first, end, path = record.first_index, record.end_index, record.path
    except HutongError as exc:
        _fail(exc)
    console.print(f"archived entries {first:,} to {end - 1:,} to {path}")

"""The ``hutong`` command."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from hutong.core.errors import HutongError
from hutong.core.settings import Settings, get_settings

app = typer.Typer(
    help="hutong 互通: share public data safely between departments, districts and regions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
pi_app = typer.Typer(help="Personal information: scan files for PI columns.", no_args_is_help=True)
app.add_typer(pi_app, name="pi")
console = Console()
err = Console(stderr=True)

HomeOption = Annotated[
    Path | None, typer.Option("--home", help="Node home (default $HUTONG_HOME or ./var)")
]


def _settings(home: Path | None) -> Settings:
    if home is not None:
        os.environ["HUTONG_HOME"] = str(home)
    get_settings.cache_clear()
    return get_settings()


def _database(settings: Settings) -> Any:
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


@app.command()
def init(
    home: HomeOption = None,
    node: Annotated[str, typer.Option(help="Node code, dotted by level (sh, sh.pudong)")] = "sh",
    name: Annotated[str, typer.Option(help="Node name")] = "上海市公共数据共享平台",
    level: Annotated[str, typer.Option(help="national, provincial, district")] = "provincial",
) -> None:
    """Create the database (migrations), the node and its Ed25519 key pair."""
    from hutong.identity import service as identity_service
    from hutong.identity.schemas import NodeInit

    settings = _settings(home)
    db = _database(settings)
    try:
        with db.session_scope() as session:
            existing = identity_service.get_node(session=session)
            if existing is not None:
                console.print(
                    f"node [bold]{existing.code}[/bold] already initialized; "
                    "migrations are up to date"
                )
                return
            n = identity_service.init_node(
                session=session,
                keys_dir=settings.keys_dir,
                data=NodeInit(code=node, name=name, level=level),
            )
    except HutongError as exc:
        _fail(exc)
    console.print(f"initialized node [bold]{n.code}[/bold] ({n.name}) in {settings.home}")
    console.print(f"public key: {n.public_key}")


@app.command()
def serve(
    home: HomeOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve the node over HTTP (applies migrations first)."""
    import uvicorn

    settings = _settings(home)
    _database(settings).dispose()
    console.print(f"hutong serving on http://{host}:{port}/  (API docs: /api/v1/docs)")
    uvicorn.run(
        "hutong.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


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
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeRemainingColumn(),
        console=err,
    )


@app.command()
def ingest(
    resource: Annotated[str, typer.Argument(help="Resource id (node:uscc:code) or code")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    home: HomeOption = None,
    format: Annotated[str | None, typer.Option(help="csv, xlsx, jsonl or parquet")] = None,
    replace: Annotated[bool, typer.Option(help="Replace all rows instead of upserting")] = False,
) -> None:
    """Load a CSV (UTF-8 or GB18030), XLSX, JSON Lines or Parquet file, all or nothing."""
    from hutong.core.security import SYSTEM
    from hutong.datastore import service as datastore_service

    settings = _settings(home)
    db = _database(settings)
    size = file.stat().st_size
    try:
        with _progress() as progress, db.session_scope() as session:
            task = progress.add_task(f"loading {file.name}", total=size, rows=0)
            result = datastore_service.ingest_file(
                session=session,
                actor=SYSTEM,
                resource_ref=resource,
                path=file,
                format=format,
                mode="replace" if replace else "upsert",
                max_bytes=settings.max_upload_bytes,
                batch_rows=settings.ingest_batch_rows,
                problem_limit=settings.ingest_report_problems,
                progress=lambda b, r: progress.update(task, completed=b, rows=r),
            )
            progress.update(task, completed=size)
    except HutongError as exc:
        _fail(exc)
    if result.already_loaded:
        console.print(f"this file was already loaded into {result.resource_id}; nothing changed")
        return
    if result.quality is not None:
        from hutong.quality.cli import print_gate_report

        print_gate_report(console, result.quality)
        if result.quality["outcome"] == "rejected":
            raise typer.Exit(1)
    console.print(
        f"loaded {result.rows:,} rows ({result.format}"
        f"{', ' + result.encoding if result.encoding else ''}) into {result.resource_id}; "
        f"the table now has {result.row_count:,} rows"
    )
    for p in result.pi_proposals:
        console.print(
            f"  [yellow]personal information?[/yellow] field {p['field']}: declared "
            f"{p['declared'] or 'none'}, looks like {p['proposed'] or 'none'} "
            f"({p['confidence']:.0%})"
        )


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


@app.command()
def demo(
    home: HomeOption = None,
    serve_: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after loading")] = True,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    people: Annotated[int, typer.Option(help="Population size")] = 100_000,
) -> None:
    """Create a realistic Shanghai demo node (departments, resources, hosted data, users)."""
    from hutong.demo.load import load_demo

    os.environ["HUTONG_DEMO"] = "1"
    settings = _settings(home)
    if "HUTONG_BASE_URL" not in os.environ:  # the printed links name where it serves
        settings.base_url = f"http://{host}:{port}"
    db = _database(settings)
    try:
        creds = load_demo(db=db, settings=settings, people=people, console=err)
    except HutongError as exc:
        _fail(exc)
    db.dispose()
    console.print(creds.summary)
    if serve_:
        serve(home=settings.home, host=host, port=port)


def main() -> None:  # pragma: no cover
    app()


audit_app = typer.Typer(help="The audit log: verify, export, checkpoints.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


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


sharing_app = typer.Typer(
    help="Sharing: applications, deadlines and grants (as the operator).", no_args_is_help=True
)
app.add_typer(sharing_app, name="sharing")


@sharing_app.command("applications")
def sharing_applications(
    home: HomeOption = None,
    overdue: Annotated[bool, typer.Option(help="Only those past their deadline")] = False,
    status: Annotated[str | None, typer.Option(help="submitted, provider_review, …")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List applications with their deadlines (overdue ones for the operator to chase)."""
    from rich.table import Table

    from hutong.core.security import SYSTEM
    from hutong.sharing import service as sharing_service

    settings = _settings(home)
    db = _database(settings)
    with db.session_scope(readonly=True) as session:
        apps = sharing_service.list_applications(
            session=session, actor=SYSTEM, status=status, overdue=overdue
        )
    if as_json:
        typer.echo(json.dumps([a.model_dump(mode="json") for a in apps], ensure_ascii=False))
        return
    table = Table("id", "status", "consumer", "resource", "due")
    for a in apps:
        due = a.provider_due if a.status == "provider_review" else a.operator_due
        table.add_row(
            a.id[:8],
            a.status,
            a.consumer_org_id,
            a.resource_id,
            due.isoformat(timespec="minutes") if due else "-",
        )
    console.print(table)


@sharing_app.command("grants")
def sharing_grants(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List every grant: who may call which fields of which resource, until when."""
    from hutong.core.security import SYSTEM
    from hutong.sharing import service as sharing_service

    settings = _settings(home)
    db = _database(settings)
    with db.session_scope(readonly=True) as session:
        grants = sharing_service.list_grants(session=session, actor=SYSTEM)
    if as_json:
        typer.echo(json.dumps([g.model_dump(mode="json") for g in grants], ensure_ascii=False))
        return
    for g in grants:
        state = "revoked" if g.revoked_at else f"until {g.expires_on}"
        console.print(
            f"{g.id}  {g.consumer_org_id} -> {g.resource_id}  {','.join(g.fields)}  {state}"
        )


@sharing_app.command("revoke")
def sharing_revoke(
    grant_id: Annotated[str, typer.Argument(help="The grant's id")],
    reason: Annotated[str, typer.Option(help="Why (recorded and shown to the consumer)")],
    home: HomeOption = None,
) -> None:
    """Revoke a grant at once."""
    from hutong.core.security import SYSTEM
    from hutong.sharing import service as sharing_service
    from hutong.sharing.schemas import Revoke

    settings = _settings(home)
    db = _database(settings)
    try:
        with db.session_scope() as session:
            g = sharing_service.revoke_grant(
                session=session, actor=SYSTEM, grant_id=grant_id, data=Revoke(reason=reason)
            )
    except HutongError as exc:
        _fail(exc)
    console.print(f"revoked grant {g.id}")


from hutong.upstream.cli import upstream_app  # noqa: E402

app.add_typer(upstream_app, name="upstream")
objections_app = typer.Typer(
    help="Objections (异议): list, escalate overdue ones, figures.", no_args_is_help=True
)
app.add_typer(objections_app, name="objections")


@objections_app.command("escalate")
def objections_escalate(home: HomeOption = None) -> None:
    """Escalate every objection past its deadline to the operator (run it from a scheduler)."""
    from hutong.core.clock import utcnow
    from hutong.objections import service as objections_service

    settings = _settings(home)
    db = _database(settings)
    try:
        with db.session_scope() as session:
            ids = objections_service.escalate_overdue(
                session=session, now=utcnow(), settings=settings
            )
    except HutongError as exc:
        _fail(exc)
    console.print(f"escalated {len(ids)} overdue objection(s)")
    for oid in ids:
        console.print(f"  {oid}")


@objections_app.command("list")
def objections_list(
    home: HomeOption = None,
    overdue: Annotated[bool, typer.Option(help="Only those past their deadline")] = False,
    status: Annotated[str | None, typer.Option(help="open, escalated, rejected, …")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List objections with their status and deadline (as the operator)."""
    from hutong.core.security import SYSTEM
    from hutong.objections import service as objections_service

    settings = _settings(home)
    db = _database(settings)
    with db.session_scope(readonly=True) as session:
        page = objections_service.list_objections(
            session=session, actor=SYSTEM, status=status, overdue=overdue, limit=1000
        )
    if as_json:
        typer.echo(json.dumps([o.model_dump(mode="json") for o in page.items], ensure_ascii=False))
        return
    for o in page.items:
        console.print(
            f"{o.id}  {o.status:<10} {o.resource_id}  {','.join(o.fields)}  "
            f"due {o.due_at.isoformat(timespec='minutes')}"
        )


notifications_app = typer.Typer(help="Notifications: send due webhooks.", no_args_is_help=True)
app.add_typer(notifications_app, name="notifications")


@notifications_app.command("send")
def notifications_send(home: HomeOption = None) -> None:
    """Send the webhooks that are due once (retries included), then exit."""
    from hutong.notifications import service as notifications_service

    settings = _settings(home)
    db = _database(settings)
    run = notifications_service.deliver_due(db=db, settings=settings)
    console.print(
        f"delivered {len(run.delivered)}, retrying {len(run.retrying)}, failed {len(run.failed)}"
    )


@app.command()
def worker(
    home: HomeOption = None,
    once: Annotated[bool, typer.Option(help="Run the due jobs once, then stop")] = False,
) -> None:
    """Run the periodic jobs (quality evaluations on their cadence, ...) until stopped."""
    import signal
    import threading

    from hutong.worker import Worker

    settings = _settings(home)
    runner = Worker(_database(settings), settings)
    if once:
        for name, result in runner.run_due().items():
            state = f"failed: {type(result).__name__}" if isinstance(result, Exception) else "done"
            console.print(f"{name}: {state}")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console.print(f"worker running; every {settings.worker_poll_seconds:g} s (Ctrl-C stops)")
    try:
        runner.run_forever(stop)
    except KeyboardInterrupt:
        stop.set()


def _register_domain_commands() -> None:
    from hutong.quality.cli import quality_app

    app.add_typer(quality_app, name="quality")


_register_domain_commands()

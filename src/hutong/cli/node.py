"""The root command and the node's own commands: init, serve, ingest, demo, worker."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from hutong.cli.common import HomeOption, _database, _fail, _progress, _settings, console, err
from hutong.core.errors import HutongError

app = typer.Typer(
    help="hutong 互通: share public data safely between departments, districts and regions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


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

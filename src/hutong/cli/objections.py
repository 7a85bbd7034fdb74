"""``hutong objections``: list objections, escalate overdue ones."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hutong.cli.common import HomeOption, _database, _fail, _settings, console
from hutong.core.errors import HutongError

objections_app = typer.Typer(
    help="Objections (异议): list, escalate overdue ones, figures.", no_args_is_help=True
)


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

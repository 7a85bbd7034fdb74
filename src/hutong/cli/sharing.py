"""``hutong sharing``: applications with their deadlines, grants, revocation (as the operator)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hutong.cli.common import HomeOption, _database, _fail, _settings, console
from hutong.core.errors import HutongError

sharing_app = typer.Typer(
    help="Sharing: applications, deadlines and grants (as the operator).", no_args_is_help=True
)


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

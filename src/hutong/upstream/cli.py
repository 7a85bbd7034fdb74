"""``hutong upstream``: register, list and disable provider APIs (as the node's operator).

The auth header's value is never taken from the command line (it would show in the
process list and the shell's history): it is read from a file or typed at a hidden prompt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

upstream_app = typer.Typer(
    help="Provider-API resources: the provider's own API that serves a resource.",
    no_args_is_help=True,
)

ResourceArg = Annotated[str, typer.Argument(help="The resource (node:uscc:code, or its code)")]
HomeOption = Annotated[
    Path | None, typer.Option("--home", help="Node home (default $HUTONG_HOME or ./var)")
]


@upstream_app.command("register")
def register(
    resource: ResourceArg,
    url: Annotated[str, typer.Option(help="The API's base URL (http or https)")],
    home: HomeOption = None,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds (default and cap: node settings)")
    ] = None,
    key_field: Annotated[
        list[str] | None, typer.Option(help="A key field the API is queried by (repeatable)")
    ] = None,
    auth_header: Annotated[
        str | None, typer.Option(help="A header sent on every call, e.g. Authorization")
    ] = None,
    auth_value_file: Annotated[
        Path | None,
        typer.Option(help="A file holding the header's value (else a hidden prompt)"),
    ] = None,
) -> None:
    """Register the provider's API for a resource that is not hosted on this node."""
    from hutong.cli import _database, _fail, _settings, console
    from hutong.core.errors import HutongError
    from hutong.core.security import SYSTEM
    from hutong.upstream import service
    from hutong.upstream.schemas import EndpointCreate

    value = None
    if auth_header:
        value = (
            auth_value_file.read_text(encoding="utf-8").strip()
            if auth_value_file is not None
            else typer.prompt(f"value of the {auth_header} header", hide_input=True)
        )
    settings = _settings(home)
    db = _database(settings)
    try:
        data = EndpointCreate(
            base_url=url,
            timeout_seconds=timeout,
            key_fields=key_field or None,
            auth_header=auth_header,
            auth_header_value=value,
        )
        with db.session_scope() as session:
            endpoint = service.register(
                session=session,
                actor=SYSTEM,
                resource_ref=resource,
                data=data,
                keys_dir=settings.keys_dir,
            )
    except HutongError as exc:
        _fail(exc)
    except ValueError as exc:  # the schema's bounds
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"registered {endpoint.base_url} for {endpoint.resource_id}")


@upstream_app.command("list")
def list_endpoints(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List every provider API: resource, URL, timeout, key fields, auth, enabled."""
    from rich.table import Table

    from hutong.cli import _database, _settings, console
    from hutong.core.security import SYSTEM
    from hutong.upstream import service

    settings = _settings(home)
    db = _database(settings)
    with db.session_scope(readonly=True) as session:
        endpoints = service.list_endpoints(session=session, actor=SYSTEM)
    if as_json:
        typer.echo(json.dumps([e.model_dump(mode="json") for e in endpoints], ensure_ascii=False))
        return
    table = Table("resource", "base URL", "timeout", "key fields", "auth", "enabled")
    for e in endpoints:
        table.add_row(
            e.resource_id,
            e.base_url,
            "-" if e.timeout_seconds is None else f"{e.timeout_seconds:g} s",
            ",".join(e.key_fields),
            e.auth_header or "-",
            "yes" if e.enabled else "no",
        )
    console.print(table)


@upstream_app.command("disable")
def disable(resource: ResourceArg, home: HomeOption = None) -> None:
    """Stop calling a resource's API (the gateway answers 503 until it is enabled again)."""
    from hutong.cli import _database, _fail, _settings, console
    from hutong.core.errors import HutongError
    from hutong.core.security import SYSTEM
    from hutong.upstream import service

    settings = _settings(home)
    db = _database(settings)
    try:
        with db.session_scope() as session:
            endpoint = service.disable(session=session, actor=SYSTEM, resource_ref=resource)
    except HutongError as exc:
        _fail(exc)
    console.print(f"disabled the API of {endpoint.resource_id}")

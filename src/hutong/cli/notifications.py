"""``hutong notifications``: send the webhooks that are due."""

from __future__ import annotations

import typer

from hutong.cli.common import HomeOption, _database, _settings, console

notifications_app = typer.Typer(help="Notifications: send due webhooks.", no_args_is_help=True)


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

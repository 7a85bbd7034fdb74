"""The ``hutong`` command: the root Typer app and its sub-commands, one module per group."""

from hutong.cli.audit import audit_app, audit_archive, audit_checkpoint, audit_export, audit_verify
from hutong.cli.common import (
    HomeOption,
    _count_progress,
    _database,
    _fail,
    _progress,
    _settings,
    console,
    err,
)
from hutong.cli.node import app, demo, ingest, init, main, serve, worker
from hutong.cli.notifications import notifications_app, notifications_send
from hutong.cli.objections import objections_app, objections_escalate, objections_list
from hutong.cli.pi import pi_app, pi_scan
from hutong.cli.sharing import sharing_app, sharing_applications, sharing_grants, sharing_revoke
from hutong.upstream.cli import upstream_app

# the order the groups are added is the order ``hutong --help`` lists them
app.add_typer(pi_app, name="pi")
app.add_typer(audit_app, name="audit")
app.add_typer(sharing_app, name="sharing")
app.add_typer(upstream_app, name="upstream")
app.add_typer(objections_app, name="objections")
app.add_typer(notifications_app, name="notifications")


def _register_domain_commands() -> None:
    from hutong.quality.cli import quality_app

    app.add_typer(quality_app, name="quality")


_register_domain_commands()

__all__ = [
    "HomeOption",
    "_count_progress",
    "_database",
    "_fail",
    "_progress",
    "_register_domain_commands",
    "_settings",
    "app",
    "audit_app",
    "audit_archive",
    "audit_checkpoint",
    "audit_export",
    "audit_verify",
    "console",
    "demo",
    "err",
    "ingest",
    "init",
    "main",
    "notifications_app",
    "notifications_send",
    "objections_app",
    "objections_escalate",
    "objections_list",
    "pi_app",
    "pi_scan",
    "serve",
    "sharing_app",
    "sharing_applications",
    "sharing_grants",
    "sharing_revoke",
    "upstream_app",
    "worker",
]

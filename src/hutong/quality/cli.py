"""`hutong quality ...`: declare rules from a YAML file, evaluate, print reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hutong.core.errors import HutongError

quality_app = typer.Typer(
    help="Quality supervision: rules, evaluations and reports (as the operator).",
    no_args_is_help=True,
)
HomeOption = Annotated[
    Path | None, typer.Option("--home", help="Node home (default $HUTONG_HOME or ./var)")
]


def print_gate_report(console: Console, report: dict[str, Any]) -> None:
    """The ingest gate's report, as a table of the rules that found failing rows."""
    colour = {"passed": "green", "warned": "yellow", "quarantined": "yellow"}.get(
        report["outcome"], "red"
    )
    console.print(
        f"quality gate ({report['policy']}): [{colour}]{report['outcome']}[/{colour}] — "
        f"{report['failed_rows']:,} of {report['rows']:,} rows fail a rule"
        + (
            f"; {report['quarantined_rows']:,} held in quarantine"
            if report["quarantined_rows"]
            else ""
        )
    )
    failing = [r for r in report["results"] if r["failed"] or r["error"]]
    if failing:
        table = Table("rule", "kind", "dimension", "checked", "failed", "note")
        for r in failing:
            table.add_row(
                r["rule_id"],
                r["kind"],
                r["dimension"],
                f"{r['checked']:,}",
                f"{r['failed']:,}",
                r["error"] or r["detail"] or "",
            )
        console.print(table)


def _cli() -> Any:
    from hutong import cli

    return cli


@quality_app.command("rules")
def rules(
    resource: Annotated[str, typer.Argument(help="Resource id (node:uscc:code) or code")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    home: HomeOption = None,
) -> None:
    """Declare a resource's rules from a YAML file (a bad rule is refused with its line)."""
    from hutong.core.security import SYSTEM
    from hutong.quality import service

    cli = _cli()
    settings = cli._settings(home)
    db = cli._database(settings)
    try:
        spec, lines = service.parse_rule_file(
            file.read_bytes()[: settings.quality_rules_max_bytes + 1],
            content_type="application/yaml",
            settings=settings,
        )
        with db.session_scope() as session:
            stored = service.put_rules(
                session=session,
                actor=SYSTEM,
                resource_ref=resource,
                spec=spec,
                settings=settings,
                lines=lines,
            )
    except HutongError as exc:
        cli._fail(exc)
    cli.console.print(
        f"{len(stored.rules)} rule(s) stored for {stored.resource_id} (version {stored.version}, "
        f"policy {stored.policy}, every {stored.cadence_hours} h)"
    )


@quality_app.command("evaluate")
def evaluate(
    resource: Annotated[str, typer.Argument(help="Resource id (node:uscc:code) or code")],
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Evaluate a resource now and print the per-rule counts and its scores."""
    from hutong.core.security import SYSTEM
    from hutong.quality import service

    cli = _cli()
    settings = cli._settings(home)
    db = cli._database(settings)
    try:
        with db.session_scope() as session:
            result = service.evaluate(
                session=session, actor=SYSTEM, resource_ref=resource, settings=settings
            )
    except HutongError as exc:
        cli._fail(exc)
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))
        return
    table = Table("rule", "kind", "dimension", "checked", "failed")
    for r in result.results:
        table.add_row(
            r["rule_id"], r["kind"], r["dimension"], f"{r['checked']:,}", f"{r['failed']:,}"
        )
    cli.console.print(table)
    dims = ", ".join(f"{d} {v:.1f}" for d, v in result.scores["dimensions"].items())
    score = "-" if result.score is None else f"{result.score:.1f}"
    cli.console.print(
        f"score {score} / 100 ({dims}); {result.rows:,} rows in {result.duration_ms} ms"
    )


@quality_app.command("report")
def report(
    home: HomeOption = None,
    format: Annotated[str, typer.Option(help="json, csv or html")] = "json",
    lang: Annotated[str, typer.Option(help="zh or en (HTML)")] = "zh",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file")] = None,
) -> None:
    """The whole node's quality report."""
    from hutong.quality import reports

    cli = _cli()
    settings = cli._settings(home)
    db = cli._database(settings)
    if format not in ("json", "csv", "html") or lang not in ("zh", "en"):
        cli.err.print("[red]error:[/red] format is json, csv or html; lang is zh or en")
        raise typer.Exit(2)
    with db.session_scope(readonly=True) as session:
        rep = reports.node_report(session=session, settings=settings)
    if format == "json":
        text = json.dumps(rep.model_dump(mode="json"), ensure_ascii=False, indent=2)
    elif format == "csv":
        text = reports.to_csv(rep)
    else:
        text = reports.to_html(rep, lang=lang)
    if output:
        output.write_text(text, encoding="utf-8")
        cli.console.print(f"report written to {output}")
    else:
        typer.echo(text)

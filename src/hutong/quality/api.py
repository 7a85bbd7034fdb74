"""JSON routes of quality supervision: rules, evaluations, quarantine, alerts, reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hutong.catalog import service as catalog_service
from hutong.core.deps import AUTHENTICATED, AppSettings, DbSession, requires
from hutong.core.security import Actor, Role
from hutong.quality import reports, service
from hutong.quality.rules import dump_yaml
from hutong.quality.schemas import (
    AlertRead,
    EvaluationRead,
    EvaluationSummary,
    ProviderScore,
    QuarantinedRowRead,
    RuleSetRead,
)
from hutong.web import i18n

router = APIRouter(tags=["quality"])
Manager = Annotated[Actor, Depends(requires(Role.steward, Role.operator))]
Reader = Annotated[Actor, Depends(requires(Role.steward, Role.operator, Role.auditor))]
Anyone = Annotated[Actor, Depends(requires(AUTHENTICATED))]
Format = Annotated[str, Path(pattern="^(json|csv|html)$")]
RULES_BODY = {
    "requestBody": {
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
        "required": True,
    }
}
# The report page runs no script; its charts are inline SVG drawn by the server.
REPORT_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


@router.get("/resources/{resource_ref}/quality/rules", response_model=RuleSetRead)
def get_rules(
    resource_ref: str,
    session: DbSession,
    actor: Reader,
    format: Annotated[str, Query(pattern="^(json|yaml)$")] = "json",
) -> Any:
    """A resource's quality rules (``?format=yaml``: the rule file)."""
    rules = service.get_rules(session=session, actor=actor, resource_ref=resource_ref)
    if format == "yaml":
        spec = service.RuleSetSpec.model_validate(
            {"policy": rules.policy, "cadence_hours": rules.cadence_hours, "rules": rules.rules}
        )
        return Response(dump_yaml(spec), media_type="application/yaml; charset=utf-8")
    return rules


@router.put("/resources/{resource_ref}/quality/rules", openapi_extra=RULES_BODY)
async def put_rules(
    resource_ref: str, request: Request, session: DbSession, settings: AppSettings, actor: Manager
) -> RuleSetRead:
    """Replace the rules from a YAML rule file or JSON; a bad rule is refused with its line."""
    body = await request.body()
    spec, lines = service.parse_rule_file(
        body, content_type=request.headers.get("content-type", ""), settings=settings
    )
    return service.put_rules(
        session=session,
        actor=actor,
        resource_ref=resource_ref,
        spec=spec,
        settings=settings,
        lines=lines,
    )


@router.post("/resources/{resource_ref}/quality/rules", status_code=201)
def add_rule(
    resource_ref: str,
    session: DbSession,
    settings: AppSettings,
    actor: Manager,
    rule: Annotated[dict[str, Any], Body()],
) -> RuleSetRead:
    """Add one rule (JSON) to the resource's set."""
    return service.add_rule(
        session=session, actor=actor, resource_ref=resource_ref, rule=rule, settings=settings
    )


@router.delete("/resources/{resource_ref}/quality/rules/{rule_id}")
def delete_rule(
    resource_ref: str, rule_id: str, session: DbSession, settings: AppSettings, actor: Manager
) -> RuleSetRead:
    """Remove one rule by its id."""
    return service.delete_rule(
        session=session, actor=actor, resource_ref=resource_ref, rule_id=rule_id, settings=settings
    )


@router.post("/resources/{resource_ref}/quality/evaluations", status_code=201)
def evaluate(
    resource_ref: str, session: DbSession, settings: AppSettings, actor: Manager
) -> EvaluationRead:
    """Evaluate the resource now (one scan) and store the result."""
    return service.evaluate(
        session=session, actor=actor, resource_ref=resource_ref, settings=settings
    )


@router.get("/resources/{resource_ref}/quality/evaluations/latest")
def latest(resource_ref: str, session: DbSession, actor: Reader) -> EvaluationRead:
    """The newest evaluation with per-rule counts and masked samples."""
    return service.latest(session=session, actor=actor, resource_ref=resource_ref)


@router.get("/quality/evaluations/{evaluation_id}")
def get_evaluation(evaluation_id: str, session: DbSession, actor: Reader) -> EvaluationRead:
    """One evaluation with per-rule counts and masked samples."""
    return service.get_evaluation(session=session, actor=actor, evaluation_id=evaluation_id)


@router.get("/resources/{resource_ref}/quality/history")
def history(
    resource_ref: str,
    session: DbSession,
    actor: Anyone,
    limit: Annotated[int, Query(ge=1, le=365)] = 30,
) -> list[EvaluationSummary]:
    """Scores of the resource's evaluations, newest first (the trend)."""
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    return service.history(session=session, resource_id=resource.id, limit=limit)


@router.get("/resources/{resource_ref}/quality/quarantine")
def quarantine(
    resource_ref: str,
    session: DbSession,
    actor: Manager,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> list[QuarantinedRowRead]:
    """Rows the ingest gate held back, as sent, with the rules each failed."""
    return service.quarantine(session=session, actor=actor, resource_ref=resource_ref, limit=limit)


@router.delete("/resources/{resource_ref}/quality/quarantine")
def clear_quarantine(resource_ref: str, session: DbSession, actor: Manager) -> dict[str, int]:
    """Drop the quarantined rows (once the fixed rows are loaded again)."""
    cleared = service.clear_quarantine(session=session, actor=actor, resource_ref=resource_ref)
    return {"cleared": cleared}


@router.get("/quality/alerts")
def alerts(
    session: DbSession,
    actor: Anyone,
    open_only: Annotated[bool, Query(alias="open")] = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertRead]:
    """Quality alerts: all for operators and auditors, one's own organization's otherwise."""
    return service.list_alerts(session=session, actor=actor, open_only=open_only, limit=limit)


@router.post("/quality/alerts/{alert_id}/resolve")
def resolve_alert(alert_id: str, session: DbSession, actor: Manager) -> AlertRead:
    """Mark an alert resolved."""
    return service.resolve_alert(session=session, actor=actor, alert_id=alert_id)


@router.get("/quality/ranking")
def ranking(session: DbSession, actor: Anyone) -> list[ProviderScore]:
    """Providers ranked by the mean of their resources' newest scores."""
    return reports.ranking(session=session)


def _render(request: Request, report: reports.QualityReport, fmt: str, name: str) -> Response:
    if fmt == "json":
        return JSONResponse(report.model_dump(mode="json"))
    if fmt == "csv":
        return Response(
            reports.to_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    lang, _ = i18n.choose_language(
        query=request.query_params.get(i18n.LANG_QUERY),
        cookie=request.cookies.get(i18n.LANG_COOKIE),
        accept_language=request.headers.get("accept-language"),
    )
    return HTMLResponse(reports.to_html(report, lang=lang), headers=REPORT_HEADERS)


@router.get("/quality/reports/node.{fmt}")
def node_report(
    fmt: Format, request: Request, session: DbSession, settings: AppSettings, actor: Anyone
) -> Response:
    """The whole node's quality report: JSON, CSV or HTML with charts."""
    report = reports.node_report(session=session, settings=settings)
    return _render(request, report, fmt, "quality-node")


@router.get("/quality/reports/providers/{provider_id}/provider.{fmt}")
def provider_report(
    provider_id: str, fmt: Format, request: Request, session: DbSession, actor: Anyone
) -> Response:
    """A provider's quality report: JSON, CSV or HTML with charts."""
    report = reports.provider_report(session=session, provider_id=provider_id)
    return _render(request, report, fmt, "quality-provider")


@router.get("/resources/{resource_ref}/quality/report/resource.{fmt}")
def resource_report(
    resource_ref: str, fmt: Format, request: Request, session: DbSession, actor: Anyone
) -> Response:
    """A resource's quality report (rule details for its managers): JSON, CSV or HTML."""
    report = reports.resource_report(session=session, actor=actor, resource_ref=resource_ref)
    return _render(request, report, fmt, "quality-resource")

"""Quality reports per resource, per provider and for the node: JSON, CSV and HTML with
server-side SVG charts (no script, every byte served by the node)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hutong.catalog import service as catalog_service
from hutong.catalog.models import Resource
from hutong.core.clock import utcnow
from hutong.core.errors import NotFound
from hutong.core.security import Actor
from hutong.core.settings import Settings
from hutong.identity.models import Organization
from hutong.quality import service as quality_service
from hutong.quality.dimensions import Dimension
from hutong.quality.models import QualityAlert, QualityEvaluation, QualityRuleSet
from hutong.quality.schemas import AlertRead, ProviderScore, QualityReport, ResourceScore
from hutong.quality.scores import weighted_mean
from hutong.web import i18n

TEMPLATES = Path(__file__).parent / "templates"
TREND_POINTS = 12
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _latest_by_resource(session: Session, provider_id: str | None = None) -> dict[str, Any]:
    newest = (
        select(QualityEvaluation.resource_id, func.max(QualityEvaluation.started_at).label("at"))
        .where(QualityEvaluation.trigger != "ingest")
        .group_by(QualityEvaluation.resource_id)
        .subquery()
    )
    stmt = select(QualityEvaluation).join(
        newest,
        (newest.c.resource_id == QualityEvaluation.resource_id)
        & (newest.c.at == QualityEvaluation.started_at),
    )
    if provider_id is not None:
        stmt = stmt.where(QualityEvaluation.provider_id == provider_id)
    return {e.resource_id: e for e in session.scalars(stmt)}


def _trend(session: Session, resource_id: str) -> list[float | None]:
    rows = quality_service.history(session=session, resource_id=resource_id, limit=TREND_POINTS)
    return [r.score for r in reversed(rows)]


def resource_scores(*, session: Session, provider_id: str | None = None) -> list[ResourceScore]:
    """The newest score of every resource that has rules, best first."""
    latest = _latest_by_resource(session, provider_id)
    stmt = (
        select(Resource, Organization)
        .join(QualityRuleSet, QualityRuleSet.resource_id == Resource.id)
        .join(Organization, Organization.id == Resource.provider_id)
    )
    if provider_id is not None:
        stmt = stmt.where(Resource.provider_id == provider_id)
    out = []
    for resource, org in session.execute(stmt):
        evaluation = latest.get(resource.id)
        out.append(
            ResourceScore(
                resource_id=resource.id,
                name=resource.name,
                provider_id=org.id,
                provider_name=org.name,
                score=evaluation.score if evaluation else None,
                dimensions=evaluation.scores.get("dimensions", {}) if evaluation else {},
                rows=evaluation.rows if evaluation else 0,
                evaluated_at=evaluation.started_at if evaluation else None,
                trend=_trend(session, resource.id),
            )
        )
    return sorted(out, key=lambda r: (r.score is None, -(r.score or 0), r.resource_id))


def _mean_dimensions(scores: list[ResourceScore]) -> dict[str, float]:
    by_dim: dict[str, list[float]] = defaultdict(list)
    for s in scores:
        for dim, value in s.dimensions.items():
            by_dim[dim].append(value)
    order = [d.value for d in Dimension]
    return {
        d: round(sum(v) / len(v), 2)
        for d, v in sorted(by_dim.items(), key=lambda kv: order.index(kv[0]))
    }


def ranking(*, session: Session) -> list[ProviderScore]:
    """Providers ranked by the mean of their resources' newest scores (unscored last)."""
    by_provider: dict[str, list[ResourceScore]] = defaultdict(list)
    for score in resource_scores(session=session):
        by_provider[score.provider_id].append(score)
    from hutong.objections import service as objections_service

    figures = {f.provider_org_id: f for f in objections_service.provider_figures(session=session)}
    rows = []
    for provider_id, scores in by_provider.items():
        scored = [s for s in scores if s.score is not None]
        mean = weighted_mean((s.score, 1.0) for s in scored if s.score is not None)
        objections = figures.get(provider_id)
        rows.append(
            ProviderScore(
                rank=0,
                provider_id=provider_id,
                provider_name=scores[0].provider_name,
                score=None if mean is None else round(mean, 2),
                resources=len(scores),
                evaluated=len(scored),
                dimensions=_mean_dimensions(scored),
                objections_filed=objections.filed if objections else 0,
                objections_confirmed=objections.confirmed if objections else 0,
                objections_overdue_rate=objections.overdue_rate if objections else None,
                objection_days_to_decision=objections.mean_days_to_decision if objections else None,
            )
        )
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.provider_id))
    for n, row in enumerate(rows, start=1):
        row.rank = n
    return rows


def _alerts(
    session: Session, *, resource_id: str | None = None, provider_id: str | None = None
) -> list[AlertRead]:
    stmt = select(QualityAlert).where(QualityAlert.resolved_at.is_(None))
    if resource_id:
        stmt = stmt.where(QualityAlert.resource_id == resource_id)
    if provider_id:
        stmt = stmt.where(QualityAlert.provider_id == provider_id)
    stmt = stmt.order_by(QualityAlert.created_at.desc()).limit(50)
    return [AlertRead.model_validate(a, from_attributes=True) for a in session.scalars(stmt)]


def resource_report(*, session: Session, actor: Actor | None, resource_ref: str) -> QualityReport:
    """A resource's report; the newest evaluation's per-rule details only for those who may
    see them (the provider's stewards, operators, auditors). Raises NotFound."""
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    scores = [
        s
        for s in resource_scores(session=session, provider_id=resource.provider_id)
        if s.resource_id == resource.id
    ]
    latest = None
    if quality_service.may_read_details(actor, resource):
        try:
            latest = quality_service.latest(session=session, actor=actor, resource_ref=resource.id)
        except NotFound:
            latest = None
    top = scores[0] if scores else None
    return QualityReport(
        scope="resource",
        subject=resource.id,
        title=resource.name,
        generated_at=utcnow(),
        score=top.score if top else None,
        dimensions=top.dimensions if top else {},
        resources=scores,
        providers=[],
        latest=latest,
        history=quality_service.history(session=session, resource_id=resource.id),
        alerts=_alerts(session, resource_id=resource.id),
    )


def provider_report(*, session: Session, provider_id: str) -> QualityReport:
    """A provider's report: its resources' scores and its place in the ranking. Raises NotFound."""
    org = session.get(Organization, provider_id)
    if org is None:
        raise NotFound(f"no organization '{provider_id}'", field="provider")
    scores = resource_scores(session=session, provider_id=org.id)
    scored = [s.score for s in scores if s.score is not None]
    mean = weighted_mean((s, 1.0) for s in scored)
    return QualityReport(
        scope="provider",
        subject=org.id,
        title=org.name,
        generated_at=utcnow(),
        score=None if mean is None else round(mean, 2),
        dimensions=_mean_dimensions([s for s in scores if s.score is not None]),
        resources=scores,
        providers=[p for p in ranking(session=session) if p.provider_id == org.id],
        alerts=_alerts(session, provider_id=org.id),
    )


def node_report(*, session: Session, settings: Settings) -> QualityReport:
    """The whole node: every scored resource and the provider ranking."""
    scores = resource_scores(session=session)
    providers = ranking(session=session)
    mean = weighted_mean((p.score, 1.0) for p in providers if p.score is not None)
    return QualityReport(
        scope="node",
        subject="node",
        title="",
        generated_at=utcnow(),
        score=None if mean is None else round(mean, 2),
        dimensions=_mean_dimensions([s for s in scores if s.score is not None]),
        resources=scores,
        providers=providers,
        alerts=_alerts(session),
    )


# rendering ---------------------------------------------------------------------------------


def to_csv(report: QualityReport) -> str:
    """One line per resource: its score and its dimensions (UTF-8 with BOM for spreadsheets)."""
    buf = io.StringIO()
    dims = [d.value for d in Dimension]
    writer = csv.writer(buf)
    writer.writerow(
        [
            "resource_id",
            "name",
            "provider_id",
            "provider_name",
            "score",
            *dims,
            "rows",
            "evaluated_at",
        ]
    )
    for r in report.resources:
        writer.writerow(
            [
                r.resource_id,
                r.name,
                r.provider_id,
                r.provider_name,
                "" if r.score is None else r.score,
                *["" if r.dimensions.get(d) is None else r.dimensions[d] for d in dims],
                r.rows,
                r.evaluated_at.isoformat() if r.evaluated_at else "",
            ]
        )
    return "\ufeff" + buf.getvalue()


def _bars(
    values: Sequence[tuple[str, float | None]], width: int = 420, bar: int = 22
) -> dict[str, Any]:
    """Geometry of a horizontal bar chart 0-100."""
    label_w, gap = 140, 8
    rows = []
    for n, (label, value) in enumerate(values):
        w = 0 if value is None else max(0.0, min(100.0, value)) * (width - label_w - 50) / 100
        rows.append({"label": label, "value": value, "y": n * (bar + gap), "w": round(w, 1)})
    return {
        "rows": rows,
        "height": max(1, len(values)) * (bar + gap),
        "width": width,
        "label_w": label_w,
        "bar": bar,
    }


def _line(points: list[float | None], width: int = 420, height: int = 120) -> dict[str, Any]:
    """Geometry of a trend line 0-100 over the last evaluations."""
    pad = 24
    n = len(points)
    step = (width - 2 * pad) / max(1, n - 1)
    coords = [
        (round(pad + i * step, 1), round(height - pad - (p or 0) * (height - 2 * pad) / 100, 1))
        for i, p in enumerate(points)
        if p is not None
    ]
    return {
        "points": " ".join(f"{x},{y}" for x, y in coords),
        "dots": coords,
        "width": width,
        "height": height,
        "pad": pad,
        "values": points,
    }


def to_html(report: QualityReport, *, lang: str) -> str:
    """The report as a page: scores, SVG charts, ranking, alerts; zh-CN or English."""

    def t(key: str) -> str:
        return i18n.translate(key, lang)

    dims = [(t(f"quality.dim.{d}"), v) for d, v in report.dimensions.items()]
    trend = report.resources[0].trend if report.scope == "resource" and report.resources else []
    return _env.get_template("quality_report.html").render(
        report=report,
        t=t,
        lang=lang,
        html_lang=i18n.HTML_LANG[lang],
        dimension_chart=_bars(dims),
        resource_chart=_bars([(r.name, r.score) for r in report.resources[:30]]),
        provider_chart=_bars([(p.provider_name, p.score) for p in report.providers[:30]]),
        trend_chart=_line(trend) if len([p for p in trend if p is not None]) > 1 else None,
    )

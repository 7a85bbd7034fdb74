"""Scores 0-100: per indicator X = A/B (duplicates and dirty data 1 - A/B), per dimension
(mean of its indicators), per resource (weighted mean of its dimensions)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from hutong.core.clock import utcnow
from hutong.core.settings import Settings
from hutong.quality.dimensions import INDICATOR_DIMENSION, Dimension, Indicator


def dimension_weights(settings: Settings) -> dict[Dimension, float]:
    """The weight of each dimension in a resource's score (settings)."""
    return {d: float(getattr(settings, f"quality_weight_{d.value}")) for d in Dimension}


def confirmed_objections(
    *, session: Session, resource_id: str, rows: int, window_days: int
) -> tuple[int, int]:
    """Records with a confirmed objection (异议属实) in the last ``window_days`` and the
    records checked, as (A, B): they count against accuracy as the ``objections``
    indicator, X = 1 - A/B."""
    from hutong.objections import service as objections_service

    since = utcnow() - dt.timedelta(days=window_days)
    confirmed = objections_service.confirmed_records(
        session=session, resource_id=resource_id, since=since
    )
    if confirmed == 0:
        return 0, 0
    return confirmed, max(rows, confirmed)


def _round(value: float) -> float:
    return round(value, 2)


def score(
    results: Sequence[Mapping[str, Any]],
    *,
    weights: Mapping[Dimension, float],
    objections: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """Indicator, dimension and total scores of one evaluation's per-rule results.

    A rule that checked nothing (B = 0) or could not run does not count. For every
    indicator, passing/checked is X = A/B with A the passing rows; for the duplicate and
    dirty-data indicators A is the failing rows and X = 1 - A/B: the same number.
    """
    checked: dict[Indicator, int] = defaultdict(int)
    failed: dict[Indicator, int] = defaultdict(int)
    for r in results:
        if r.get("error") or not r.get("checked"):
            continue
        indicator = Indicator(r["indicator"])
        checked[indicator] += int(r["checked"])
        failed[indicator] += min(int(r["failed"]), int(r["checked"]))
    if objections[1] > 0:
        checked[Indicator.objections] += objections[1]
        failed[Indicator.objections] += min(objections[0], objections[1])
    indicators = {i: 100.0 * (checked[i] - failed[i]) / checked[i] for i in checked}
    by_dimension: dict[Dimension, list[float]] = defaultdict(list)
    for indicator, value in indicators.items():
        by_dimension[INDICATOR_DIMENSION[indicator]].append(value)
    dimensions = {d: sum(v) / len(v) for d, v in by_dimension.items()}
    total = weighted_mean((dimensions[d], weights.get(d, 1.0)) for d in dimensions)
    return {
        "indicators": {i.value: _round(v) for i, v in sorted(indicators.items())},
        "dimensions": {d.value: _round(v) for d, v in sorted(dimensions.items())},
        "total": None if total is None else _round(total),
    }


def weighted_mean(pairs: Iterable[tuple[float, float]]) -> float | None:
    """Weighted mean of (value, weight) pairs; None when no weight is positive."""
    total = weight_sum = 0.0
    for value, weight in pairs:
        if weight > 0:
            total += value * weight
            weight_sum += weight
    return total / weight_sum if weight_sum else None

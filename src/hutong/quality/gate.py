"""The ingest gate: every batch is evaluated before it commits, under the resource's policy.

``reject``: a batch with any failing row is refused and the table is left unchanged (the
data writes run in a savepoint that the gate rolls back); the report is stored.
``quarantine``: failing rows are held back in ``quality_quarantine`` for the steward to
fix and load again; the others are loaded. ``warn``: everything is loaded and the report
lists the failures.

Rules that need the whole table (row count, update cycle) are left to the periodic
evaluation; uniqueness is checked within the batch (keys against the table are the
datastore's upsert).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session, SessionTransaction

from hutong.audit import service as audit_service
from hutong.catalog.models import Resource
from hutong.catalog.schemas import FieldSpec
from hutong.core.clock import utcnow
from hutong.core.errors import Invalid
from hutong.core.security import Actor
from hutong.core.settings import Settings, get_settings
from hutong.quality import service as quality_service
from hutong.quality.evaluate import ReferenceValues, RuleOutcome, _json_value, evaluate_batch
from hutong.quality.models import QuarantinedRow
from hutong.quality.rules import Policy, RuleSetSpec
from hutong.quality.schemas import GateReport


@dataclass
class Gate:
    """One ingest's gate: opened before the first write, finished before the batch commits."""

    session: Session
    actor: Actor
    resource: Resource
    fields: list[FieldSpec]
    spec: RuleSetSpec
    version: int
    settings: Settings
    savepoint: SessionTransaction
    references: ReferenceValues
    started: float = field(default_factory=time.perf_counter)
    rows: int = 0
    failed_rows: int = 0
    custom_failures: int = 0
    held: list[dict[str, Any]] = field(default_factory=list)
    outcomes: dict[str, RuleOutcome] = field(default_factory=dict)

    def check(self, typed: pa.Table, *, first_row: int) -> pa.Table:
        """Evaluate a typed batch; return the rows to load (all, the passing ones, or none)."""
        verdict = evaluate_batch(
            batch=typed,
            rules=self.spec.rules,
            fields=self.fields,
            references=self.references,
            sample_rows=self.settings.quality_sample_rows,
            first_row=first_row,
        )
        self.rows += typed.num_rows
        self.custom_failures += verdict.custom_failures
        for out in verdict.outcomes:
            seen = self.outcomes.setdefault(
                out.rule_id,
                RuleOutcome(
                    rule_id=out.rule_id,
                    kind=out.kind,
                    dimension=out.dimension,
                    indicator=out.indicator,
                ),
            )
            seen.checked += out.checked
            seen.failed += out.failed
            seen.error = seen.error or out.error
            room = self.settings.quality_sample_rows - len(seen.sample)
            seen.sample.extend(out.sample[: max(room, 0)])
        failing = verdict.failing
        count = int(pc.sum(failing).as_py() or 0)
        self.failed_rows += count
        if self.spec.policy == Policy.warn or count == 0:
            return typed
        if self.spec.policy == Policy.reject:
            return typed.slice(0, 0)  # the batch will be refused: do not write it
        if len(self.held) + count > self.settings.quality_quarantine_max_rows:
            raise Invalid(
                f"more than {self.settings.quality_quarantine_max_rows} rows fail the quality "
                "rules: the batch is refused rather than quarantined; the table is unchanged",
                field="file",
            )
        indices = pc.indices_nonzero(failing)
        for n, values, rules in zip(
            indices.to_pylist(),
            typed.take(indices).to_pylist(),
            verdict.failed_rules,
            strict=True,
        ):
            self.held.append(
                {
                    "source_row": first_row + n,
                    "values": {k: _json_value(v) for k, v in values.items()},
                    "failed_rules": rules,
                }
            )
        return typed.filter(pc.invert(failing))

    def finish(self, *, batch_id: str | None) -> GateReport:
        """Store the batch's evaluation (and its quarantined rows); roll back a rejected batch."""
        rejected = self.spec.policy == Policy.reject and (self.failed_rows or self.custom_failures)
        if rejected and self.savepoint.is_active:
            self.savepoint.rollback()
        elif self.savepoint.is_active:
            self.savepoint.commit()
        if self.failed_rows == 0 and self.custom_failures == 0:
            outcome = "passed"
        else:
            outcome = {
                Policy.reject: "rejected",
                Policy.quarantine: "quarantined",
                Policy.warn: "warned",
            }[self.spec.policy]
        outcomes = [self.outcomes[r.id] for r in self.spec.rules if r.id in self.outcomes]
        evaluation = quality_service.store_evaluation(
            session=self.session,
            resource=self.resource,
            outcomes=outcomes,
            rows=self.rows,
            trigger="ingest",
            settings=self.settings,
            rules_version=self.version,
            started=self.started,
            policy=self.spec.policy.value,
            outcome=outcome,
            failed_rows=self.failed_rows,
            batch_id=None if rejected else batch_id,
        )
        now = utcnow()
        for held in self.held:
            self.session.add(
                QuarantinedRow(
                    resource_id=self.resource.id,
                    evaluation_id=evaluation.id,
                    created_at=now,
                    **held,
                )
            )
        self.session.flush()
        if rejected:
            audit_service.record(
                session=self.session,
                event=audit_service.event_for(
                    self.actor,
                    "data.ingest",
                    outcome="rejected",
                    resource=self.resource.id,
                    provider_org=self.resource.provider_id,
                    records=0,
                    detail={"evaluation": evaluation.id, "failed_rows": self.failed_rows},
                ),
            )
        return GateReport(
            evaluation_id=evaluation.id,
            policy=self.spec.policy.value,
            outcome=outcome,
            rows=self.rows,
            failed_rows=self.failed_rows,
            quarantined_rows=len(self.held),
            results=evaluation.results,
        )


def open_gate(
    *,
    session: Session,
    actor: Actor,
    resource: Resource,
    fields: list[FieldSpec],
    settings: Settings | None = None,
) -> Gate | None:
    """The gate of a resource with quality rules (None without), opened before any write."""
    loaded = quality_service.load_spec(session=session, resource_id=resource.id)
    if loaded is None or not loaded[0].rules:
        return None
    settings = settings or get_settings()
    gate = Gate(
        session=session,
        actor=actor,
        resource=resource,
        fields=fields,
        spec=loaded[0],
        version=loaded[1],
        settings=settings,
        savepoint=session.begin_nested(),
        references=ReferenceValues(session, settings.quality_reference_max_values),
    )
    return gate

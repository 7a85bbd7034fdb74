"""A correction of data served from the provider's own system is asked of the provider."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlalchemy import select

from hutong.core.clock import utcnow
from hutong.core.security import Role
from hutong.notifications.models import Notification, WebhookDelivery, WebhookSubscription
from hutong.objections import service as objections_service
from hutong.objections.models import Objection
from hutong.objections.schemas import Decision
from tests.factories import make_org, make_resource, make_user


def test_accepting_an_objection_on_provider_api_data_asks_the_provider(db, settings):
    provider = make_org(db, name="上海市公安局")
    consumer = make_org(db, name="上海市民政局")
    resource = make_resource(db, provider_id=provider, hosted=False)
    steward = make_user(db, roles=[Role.steward], org_id=provider)
    now = utcnow()
    objection_id = str(uuid.uuid4())
    with db.session_scope() as s:
        s.add(
            WebhookSubscription(
                id=str(uuid.uuid4()),
                organization_id=provider,
                url="http://127.0.0.1:9/hooks",
                kinds=[],
                created_at=now,
            )
        )
        s.add(
            Objection(
                id=objection_id,
                resource_id=resource.id,
                provider_org_id=provider,
                record_key="310101199001011234",
                fields=["name"],
                proposed={"name": "张三"},
                explanation="the name was misspelt",
                filer_kind="organization",
                filer_org_id=consumer,
                filer="test",
                status="open",
                due_at=now + dt.timedelta(days=7),
                created_at=now,
                updated_at=now,
            )
        )
    with db.session_scope() as s:
        read = objections_service.decide(
            session=s,
            actor=steward,
            settings=settings,
            objection_id=objection_id,
            data=Decision(decision="accept", reasons="confirmed with the source system"),
        )
    assert read.status == "corrected"
    with db.session_scope(readonly=True) as s:
        note = s.scalars(
            select(Notification).where(Notification.kind == "objection.correct_at_source")
        ).one()
        delivery = s.scalars(
            select(WebhookDelivery).where(WebhookDelivery.organization_id == provider)
        ).one()
    assert note.organization_id == provider
    body = json.loads(delivery.payload)
    assert delivery.organization_id == provider and delivery.kind == "objection.correct_at_source"
    assert json.dumps(body, ensure_ascii=False).count("张三") >= 1

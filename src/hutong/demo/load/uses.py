"""The demo's data uses: citizens' identities, scenarios, grants and audited calls."""

from __future__ import annotations

from typing import Any

from hutong.catalog import service as catalog_service
from hutong.core.database import Database
from hutong.core.settings import Settings
from hutong.demo import data
from hutong.demo.load.credentials import DemoCredentials
from hutong.identity import service as identity_service

# (consumer, scenario name, purpose, legal basis, confidential, fields) of the demo's uses
_SCENARIOS = (
    (
        "civil_affairs",
        "最低生活保障资格核查",
        "核对低保申请人的户籍和家庭成员信息",
        "《社会救助暂行办法》第十一条",
        False,
        ["name", "household_district"],
    ),
    (
        "hrss",
        "社会保险待遇资格认证",
        "确认领取养老金人员的身份信息",
        "《中华人民共和国社会保险法》",
        False,
        ["name", "birth_date"],
    ),
    (
        "police",
        "刑事案件侦查",
        "依法调查案件相关人员",
        "《中华人民共和国刑事诉讼法》第五十四条",
        True,
        ["name", "mobile", "address"],
    ),
)


def data_uses(db: Database, settings: Settings, people: Any, creds: DemoCredentials) -> None:
    """Give the demo citizens verified identities, scenarios and audited uses of their data.

    The uses are written through the audit service as data calls under each scenario, so
    the citizen view, the statistics and the proofs have something real to show. The
    scenarios that are not confidential hold grants (the key masked, personal fields
    masked), so the gateway answers the demo apps at once; ``creds.gateway`` names one.
    """
    import datetime as dt
    import random
    import uuid

    from sqlalchemy import select

    from hutong.audit import service as audit_service
    from hutong.audit.entry import subject_key
    from hutong.core.clock import utcnow
    from hutong.core.keys import load_keys
    from hutong.identity.models import User
    from hutong.sharing.models import Grant, Scenario

    secret = load_keys(settings.keys_dir).subject_hmac
    ids = people.column("resident_id").to_pylist()
    names = people.column("name").to_pylist()
    rng = random.Random(11)
    today = utcnow().date()
    with db.session_scope() as session:
        population = catalog_service.get_row(session=session, resource_ref=data.POPULATION)
        for username, i in (("citizen-zhang", 0), ("citizen-li", 1)):
            user = session.scalars(select(User).where(User.username == username)).one()
            user.subject_key = subject_key(ids[i], secret=secret)
            user.display_name = names[i]
        scenarios = []
        for short, name, purpose, basis, confidential, fields in _SCENARIOS:
            org = identity_service.resolve_organization(session=session, ref=short)
            scenario = Scenario(
                id=str(uuid.uuid4()),
                organization_id=org.id,
                name=name,
                purpose=purpose,
                legal_basis=basis,
                business_system=f"{org.name}业务系统",
                responsible_person="张主任",
                valid_from=today - dt.timedelta(days=90),
                valid_until=today + dt.timedelta(days=275),
                expected_daily_volume=5000,
                confidential=confidential,
                disclose_on=today + dt.timedelta(days=90) if confidential else None,
                created_at=utcnow(),
            )
            session.add(scenario)
            scenarios.append((scenario, org, fields))
        session.flush()
        specs = {f["name"]: f for f in population.meta["fields"]}
        for scenario, org, fields in scenarios:
            if scenario.confidential:
                continue
            granted = ["resident_id", *fields]
            session.add(
                Grant(
                    id=str(uuid.uuid4()),
                    consumer_org_id=org.id,
                    scenario_id=scenario.id,
                    resource_id=population.id,
                    provider_org_id=population.provider_id,
                    fields={
                        n: "masked" if specs[n].get("pi_category") else "clear" for n in granted
                    },
                    call_types=["query", "verify", "bulk"],
                    daily_quota=10_000,
                    expires_on=scenario.valid_until,
                    created_at=utcnow(),
                )
            )
            if not creds.gateway:
                app = next(a for a in creds.apps if a["organization"] == org.name)
                creds.gateway = {
                    "organization": org.name,
                    "api_key": app["api_key"],
                    "scenario_id": scenario.id,
                    "scenario": scenario.name,
                    "resource_id": population.id,
                    "key": ids[0],
                }
        session.flush()
        events = []
        for day in range(14, -1, -1):
            for scenario, org, fields in scenarios:
                for _ in range(rng.randint(20, 60)):
                    person = rng.randrange(len(ids))
                    if day % 5 == 0 and person > 1 and rng.random() < 0.05:
                        person = rng.choice((0, 1))  # now and then, one of the demo citizens
                    events.append(
                        audit_service.AuditEvent(
                            action="data.query",
                            actor_org=org.id,
                            resource=population.id,
                            provider_org=population.provider_id,
                            fields=fields,
                            scenario=scenario.id,
                            call_type="api",
                            detail={"demo": "generated"},
                            records=1,
                            subjects=[subject_key(ids[person], secret=secret)],
                            time=utcnow() - dt.timedelta(days=day, minutes=rng.randint(0, 600)),
                        )
                    )
        for scenario, org, fields in scenarios:  # each citizen has at least one use of each
            for person in (0, 1):
                events.append(
                    audit_service.AuditEvent(
                        action="data.query",
                        actor_org=org.id,
                        resource=population.id,
                        provider_org=population.provider_id,
                        fields=fields,
                        scenario=scenario.id,
                        call_type="api",
                        detail={"demo": "generated"},
                        records=1,
                        subjects=[subject_key(ids[person], secret=secret)],
                    )
                )
        audit_service.record_many(session=session, events=events)

"""Load the demo Shanghai node into a database: organizations, users, apps, catalog, data."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hutong.catalog import service as catalog_service
from hutong.catalog.schemas import ResourceCreate
from hutong.core.database import Database
from hutong.core.security import SYSTEM, Role
from hutong.core.settings import Settings
from hutong.datastore import service as datastore_service
from hutong.demo import data
from hutong.identity import service as identity_service
from hutong.identity.schemas import AppCreate, NodeInit, OrganizationCreate, UserCreate

CREDENTIALS_FILE = "demo-credentials.json"


@dataclass
class DemoCredentials:
    """What a person needs to try the demo: URLs, users with passwords, API keys."""

    base_url: str
    users: list[dict[str, Any]] = field(default_factory=list)
    apps: list[dict[str, Any]] = field(default_factory=list)
    gateway: dict[str, str] = field(default_factory=dict)  # an app, scenario and key to try
    path: Path | None = None

    @property
    def summary(self) -> str:
        lines = [
            "",
            "hutong demo node (演示环境 — generated, fictitious data)",
            f"  open        {self.base_url}/",
            f"  catalog     {self.base_url}/catalog",
            f"  API docs    {self.base_url}/api/v1/docs",
            f"  CKAN API    {self.base_url}/api/3/action/package_search?q=人口",
            f"  DCAT-AP     {self.base_url}/catalog.ttl",
            "  users (user name / password / roles):",
        ]
        for u in self.users[:8]:
            lines.append(f"    {u['username']:<22} {u['password']:<26} {','.join(u['roles'])}")
        if len(self.users) > 8:
            lines.append(f"    … {len(self.users) - 8} more")
        if self.apps:
            a = self.apps[0]
            lines.append(f"  an API key ({a['organization']}): {a['api_key']}")
        if self.gateway:
            lines += ["  call the data gateway (a granted scenario; masked fields, audited):"]
            lines += [f"    {line}" for line in gateway_curl(self.base_url, self.gateway)]
        if self.path:
            lines.append(f"  all credentials: {self.path}")
        return "\n".join(lines)


def gateway_curl(base_url: str, gateway: dict[str, str]) -> list[str]:
    """Shell lines that look up one person through the gateway with a demo app's key.

    Short lines: a console wraps long ones, and a wrapped command no longer pastes.
    """
    return [
        f"N='{base_url}'",
        f"K='{gateway['api_key']}'",
        f"S='{gateway['scenario_id']}'",
        f"R='{gateway['resource_id']}'",
        'curl -H "Authorization: Bearer $K" -H "X-Hutong-Scenario: $S" \\',
        f'  "$N/gateway/v1/resources/$R/records/{gateway["key"]}"',
    ]


def _password() -> str:
    return secrets.token_urlsafe(12)


def load_demo(
    *, db: Database, settings: Settings, people: int = 100_000, console: Console | None = None
) -> DemoCredentials:
    """Create the demo node once; a second run prints the existing credentials."""
    console = console or Console(stderr=True)
    path = settings.home / CREDENTIALS_FILE
    with db.session_scope() as session:
        existing = identity_service.get_node(session=session)
    if existing is not None and path.exists():
        saved = json.loads(path.read_text(encoding="utf-8"))
        return DemoCredentials(
            base_url=saved["base_url"],
            users=saved["users"],
            apps=saved["apps"],
            gateway=saved.get("gateway", {}),
            path=path,
        )
    creds = DemoCredentials(base_url=settings.base_url.rstrip("/"), path=path)
    with db.session_scope() as session:
        if existing is None:
            identity_service.init_node(
                session=session,
                keys_dir=settings.keys_dir,
                data=NodeInit(code=data.NODE),
                demo=True,
            )
        _organizations_users_apps(session, settings, creds)
        for spec in _related_first(data.resource_specs()):
            catalog_service.create(
                session=session, actor=SYSTEM, data=ResourceCreate.model_validate(spec)
            )
    console.print(
        f"created {len(data.DEPARTMENTS)} organizations, "
        f"{len(data.resource_specs())} resources; generating hosted data …"
    )
    tables = data.hosted_tables(population_size=people)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("loading hosted tables", total=len(tables))
        with tempfile.TemporaryDirectory() as tmp:
            for code, table in tables.items():
                progress.update(task, description=f"loading {code} ({table.num_rows:,} rows)")
                file = Path(tmp) / f"{code}.parquet"
                pq.write_table(table, file)
                with db.session_scope() as session:
                    rid = catalog_service.get_row(session=session, resource_ref=code).id
                    datastore_service.ingest_file(
                        session=session,
                        actor=SYSTEM,
                        resource_ref=rid,
                        path=file,
                        filename=f"{code}.parquet",
                    )
                progress.advance(task)
    _data_uses(db, settings, tables[data.POPULATION], creds)
    _write_credentials(path, creds)
    return creds


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


def _data_uses(db: Database, settings: Settings, people: Any, creds: DemoCredentials) -> None:
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


def _related_first(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order specs so that every related resource is published before the one citing it.

    A reference that would close a cycle is dropped (the catalog refuses unknown relations).
    """
    by_code = {s["code"]: s for s in specs}
    ordered: list[dict[str, Any]] = []
    state: dict[str, str] = {}

    def visit(code: str) -> None:
        state[code] = "visiting"
        spec = by_code[code]
        kept = []
        for rel in spec.get("related", []):
            if rel not in by_code or state.get(rel) == "visiting":
                continue
            if state.get(rel) != "done":
                visit(rel)
            kept.append(rel)
        ordered.append({**spec, "related": kept})
        state[code] = "done"

    for code in by_code:
        if state.get(code) != "done":
            visit(code)
    return ordered


def _organizations_users_apps(session: Any, settings: Settings, creds: DemoCredentials) -> None:
    operator_user_done = False
    for dept in data.DEPARTMENTS:
        org = identity_service.create_organization(
            session=session,
            data=OrganizationCreate(
                uscc=dept.uscc,
                name=dept.name,
                name_en=dept.name_en,
                short_name=dept.short_name,
                description=dept.description,
            ),
        )
        for role in dept.roles:
            if role == "operator" and operator_user_done:
                continue
            username = f"{dept.short_name}-{role}"
            password = _password()
            identity_service.create_user(
                session=session,
                data=UserCreate(
                    username=username,
                    password=password,
                    organization=org.id,
                    display_name=f"{dept.name} {role}",
                    roles=[Role(role)],
                ),
            )
            creds.users.append(
                {
                    "username": username,
                    "password": password,
                    "roles": [role],
                    "organization": dept.name,
                }
            )
            operator_user_done = operator_user_done or role == "operator"
            if role == "consumer":
                app = identity_service.create_app(
                    session=session,
                    actor=SYSTEM,
                    data=AppCreate(name=f"{dept.name}业务系统", organization=org.id),
                    key_prefix=settings.api_key_prefix,
                )
                creds.apps.append(
                    {
                        "organization": dept.name,
                        "app": app.name,
                        "app_id": app.id,
                        "api_key": app.api_key,
                    }
                )
    operator_org = data.operator()
    for username, roles in (
        ("auditor", [Role.auditor]),
        ("citizen-zhang", [Role.citizen]),
        ("citizen-li", [Role.citizen]),
    ):
        password = _password()
        identity_service.create_user(
            session=session,
            data=UserCreate(
                username=username,
                password=password,
                roles=roles,
                organization=operator_org.uscc if Role.auditor in roles else None,
            ),
        )
        creds.users.append(
            {"username": username, "password": password, "roles": [r.value for r in roles]}
        )
    # operators first: the person trying the demo starts there
    creds.users.sort(key=lambda u: (u["roles"] != ["operator"], u["username"]))


def _write_credentials(path: Path, creds: DemoCredentials) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(
            {
                "base_url": creds.base_url,
                "users": creds.users,
                "apps": creds.apps,
                "gateway": creds.gateway,
            },
            fh,
            ensure_ascii=False,
            indent=2,
        )

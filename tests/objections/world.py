"""A provider with a hosted population table, three consumer organizations and a citizen."""

from __future__ import annotations

from sqlalchemy import select

from hutong.audit.entry import subject_key
from hutong.core.keys import load_keys
from hutong.core.security import Role
from hutong.identity.models import Node, User
from tests.factories import PASSWORD, make_app_key, make_org, make_resource, make_user
from tests.gateway.test_gateway import FIELDS, make_grant, make_scenario, people, rid

GRANT_CLEAR = {"resident_id": "masked", "name": "clear", "children": "clear", "birth_date": "clear"}
GRANT_MASKED = {"resident_id": "masked", "name": "masked", "children": "clear"}


def login(client, username: str) -> dict[str, str]:
    client.cookies.clear()
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


class Consumer:
    def __init__(self, world: World, name: str, grant: dict[str, str]) -> None:
        self.org = make_org(world.db, name=name)
        self.key = make_app_key(world.db, org_id=self.org)
        self.scenario = make_scenario(world.db, self.org)
        make_grant(
            world.db,
            consumer=self.org,
            scenario=self.scenario,
            resource=world.resource,
            fields=grant,
        )
        self.user = make_user(world.db, roles=[Role.consumer], org_id=self.org)
        self.world = world

    @property
    def app(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "X-Hutong-Scenario": self.scenario}

    def lookup(self, seq: int):
        r = self.world.client.get(
            f"/gateway/v1/resources/{self.world.resource.id}/records/{rid(seq)}", headers=self.app
        )
        assert r.status_code == 200, r.text
        return r.json()


class World:
    def __init__(self, client, db, settings) -> None:
        self.client, self.db, self.settings = client, db, settings
        self.provider = make_org(db, name="上海市公安局")
        self.resource = make_resource(db, provider_id=self.provider, fields=FIELDS)
        self.steward_user = make_user(db, roles=[Role.steward], org_id=self.provider)
        self.steward = login(client, self.steward_user.name)
        self.upload(people(range(10)))
        self.operator_org = make_org(db, name="上海市大数据中心")
        self.operator_user = make_user(db, roles=[Role.operator], org_id=self.operator_org)
        self.operator = login(client, self.operator_user.name)
        self.auditor = login(client, make_user(db, roles=[Role.auditor]).name)
        self.a = Consumer(self, "上海市民政局", GRANT_CLEAR)
        self.b = Consumer(self, "上海市人社局", GRANT_MASKED)
        self.c = Consumer(self, "上海市卫健委", GRANT_CLEAR)
        self.citizen_user = self.citizen(3)
        self.citizen_h = login(client, self.citizen_user.name)

    def citizen(self, seq: int | None):
        user = make_user(self.db, roles=[Role.citizen])
        if seq is not None:
            secret = load_keys(self.settings.keys_dir).subject_hmac
            with self.db.session_scope() as s:
                s.get(User, user.id).subject_key = subject_key(rid(seq), secret=secret)
        return user

    def upload(self, data: bytes, name: str = "p.csv") -> None:
        r = self.client.post(
            f"/api/v1/resources/{self.resource.id}/upload",
            files={"file": (name, data)},
            headers=self.steward,
        )
        assert r.status_code == 201, r.text

    def file(self, headers, seq: int = 3, **over):
        body = {
            "resource": self.resource.id,
            "record_key": rid(seq),
            "fields": ["name", "children"],
            "proposed": {"name": "张三", "children": 2},
            "explanation": "户口簿上的姓名是张三，子女两人。",
            **over,
        }
        return self.client.post("/api/v1/objections", json=body, headers=headers)

    def public_key(self) -> str:
        with self.db.session_scope() as s:
            return s.scalars(select(Node)).one().public_key

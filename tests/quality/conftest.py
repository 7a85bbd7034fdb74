"""Fixtures of the quality tests: a provider, a hosted resource with crafted rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from hutong.core.database import Database
from hutong.core.security import SYSTEM, Role
from hutong.datastore import service as datastore_service
from tests.factories import make_org, make_resource, make_user
from tests.quality import data


@dataclass
class World:
    db: Database
    org: str
    resource: str
    ref: str
    tmp: Path
    steward: object
    rules_yaml: str

    def load(self, rows=None, name="people.csv", actor=None, **kw):
        path = data.write_csv(self.tmp / name, rows if rows is not None else data.rows())
        with self.db.session_scope() as s:
            return datastore_service.ingest_file(
                session=s, actor=actor or SYSTEM, resource_ref=self.resource, path=path, **kw
            )


@pytest.fixture
def world(db, tmp_path) -> World:
    org = make_org(db, name="上海市数据局")
    resource = make_resource(
        db, provider_id=org, fields=data.FIELDS, update_cycle="daily", base_catalog=None
    )
    ref = make_resource(db, provider_id=org, fields=data.REF_FIELDS, base_catalog=None)
    ref_csv = tmp_path / "districts.csv"
    ref_csv.write_text("name\n" + "\n".join(data.DISTRICTS) + "\n", encoding="utf-8")
    with db.session_scope() as s:
        datastore_service.ingest_file(session=s, actor=SYSTEM, resource_ref=ref.id, path=ref_csv)
    steward = make_user(db, roles=[Role.steward], org_id=org)
    return World(
        db=db,
        org=org,
        resource=resource.id,
        ref=ref.id,
        tmp=tmp_path,
        steward=steward,
        rules_yaml=data.RULES_YAML.replace("REF", ref.id),
    )

"""Factories that build test data through the real services (no shared mutable fixtures)."""

from __future__ import annotations

import itertools
from typing import Any

from stdnum.cn import uscc as stdnum_uscc

from hutong.catalog import service as catalog_service
from hutong.catalog.schemas import ResourceCreate, ResourceRead
from hutong.core.database import Database
from hutong.core.security import SYSTEM, Actor, Role
from hutong.identity import service as identity_service
from hutong.identity.schemas import AppCreate, OrganizationCreate, UserCreate

_seq = itertools.count(1)
PASSWORD = "correct horse battery"


def make_uscc(n: int | None = None, *, prefix: str = "11310000") -> str:
    """A valid unified social credit code (government organ in Shanghai by default)."""
    n = next(_seq) if n is None else n
    body = prefix + f"{n:08d}"
    org = body[8:16]
    # the 9-character organization code carries its own check (GB 11714)
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    s = sum(alphabet.index(c) * w for c, w in zip(org, weights, strict=True))
    c9 = 11 - s % 11
    org_check = "X" if c9 == 10 else "0" if c9 == 11 else str(c9)
    base = body + org_check
    return base + stdnum_uscc.calc_check_digit(base)


def make_org(db: Database, *, name: str = "测试局", short: str | None = None) -> str:
    """Create an organization; return its id (node:uscc)."""
    uscc = make_uscc()
    with db.session_scope() as s:
        org = identity_service.create_organization(
            session=s,
            data=OrganizationCreate(
                uscc=uscc, name=name, short_name=short or f"org{uscc[-6:]}".lower()
            ),
        )
        return org.id


def make_user(
    db: Database, *, roles: list[Role], org_id: str | None = None, username: str | None = None
) -> Actor:
    """Create a user; return it as an Actor."""
    with db.session_scope() as s:
        u = identity_service.create_user(
            session=s,
            data=UserCreate(
                username=username or f"user{next(_seq)}",
                password=PASSWORD,
                organization=org_id,
                roles=roles,
            ),
        )
    return Actor(
        kind="user",
        id=u.id,
        name=u.username,
        organization_id=org_id,
        roles=frozenset(r.value for r in roles),
    )


def make_app_key(db: Database, *, org_id: str, prefix: str = "ht_") -> str:
    with db.session_scope() as s:
        return identity_service.create_app(
            session=s,
            actor=SYSTEM,
            data=AppCreate(name="app", organization=org_id),
            key_prefix=prefix,
        ).api_key


def resource_payload(provider_uscc: str, **over: Any) -> dict[str, Any]:
    """A valid ResourceCreate body (a small population-like hosted table)."""
    body: dict[str, Any] = {
        "code": f"101001-{next(_seq):05d}",
        "name": "人口基本信息",
        "classification": "101001",
        "classification_name": "人口基础信息",
        "abstract": "本市户籍和常住人口的基本信息，包括身份证号、姓名、性别、出生日期。",
        "provider": provider_uscc,
        "fields": [
            {
                "name": "resident_id",
                "label": "公民身份号码",
                "type": "string",
                "key": True,
                "pi_category": "resident_id",
            },
            {"name": "name", "label": "姓名", "type": "string", "pi_category": "name"},
            {"name": "birth_date", "label": "出生日期", "type": "date"},
            {"name": "children", "label": "子女数", "type": "integer"},
        ],
        "sharing": {
            "type": "conditional",
            "reason": "含个人信息",
            "legal_basis": "《上海市数据条例》",
        },
        "opening": {"type": "closed", "reason": "个人信息", "legal_basis": "《个人信息保护法》"},
        "security_grade": "important",
        "update_cycle": "daily",
        "base_catalog": "population",
        "hosted": True,
        "keywords": ["人口", "户籍"],
    }
    body.update(over)
    return body


def make_resource(db: Database, *, provider_id: str, **over: Any) -> ResourceRead:
    uscc = provider_id.split(":")[1]
    with db.session_scope() as s:
        return catalog_service.create(
            session=s,
            actor=SYSTEM,
            data=ResourceCreate.model_validate(resource_payload(uscc, **over)),
        )

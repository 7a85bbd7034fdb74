"""The demo's organizations, their users (random passwords) and their consumer apps."""

from __future__ import annotations

import secrets
from typing import Any

from hutong.core.security import SYSTEM, Role
from hutong.core.settings import Settings
from hutong.demo import data
from hutong.demo.load.credentials import DemoCredentials
from hutong.identity import service as identity_service
from hutong.identity.schemas import AppCreate, OrganizationCreate, UserCreate


def _password() -> str:
    """A random password for a demo user."""
    return secrets.token_urlsafe(12)


def organizations_users_apps(session: Any, settings: Settings, creds: DemoCredentials) -> None:
    """Create every department with its users (random passwords) and consumer apps."""
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

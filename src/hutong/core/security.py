"""Passwords (argon2), random tokens and API keys (SHA-256 at rest), the acting principal."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


class Role(StrEnum):
    """Roles of ARCHITECTURE.md."""

    operator = "operator"  # 平台管理
    steward = "steward"  # 数源单位
    consumer = "consumer"  # 用数单位
    auditor = "auditor"  # 监督
    citizen = "citizen"  # 数据主体


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if the password matches its argon2 hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token."""
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """SHA-256 of a high-entropy token: enough for random secrets, and fast per request."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user (pages, API with a session) or an app (API key)."""

    kind: str  # "user" | "app" | "system"
    id: str
    name: str = ""
    organization_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    def has(self, *roles: str) -> bool:
        """True if the actor holds any of the roles."""
        return bool(self.roles.intersection(roles))

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}"


SYSTEM = Actor(kind="system", id="system", name="hutong", roles=frozenset({Role.operator}))

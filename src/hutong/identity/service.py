"""Identity: the local node and its key pair, organizations, users, apps, login sessions."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from hutong.core.clock import utcnow
from hutong.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from hutong.core.ids import check_node_code, check_uscc, org_id
from hutong.core.keys import SIGNING_KEY_FILE, ensure_subject_key, load_keys, write_secret
from hutong.core.security import (
    SYSTEM,
    Actor,
    Role,
    hash_password,
    new_token,
    token_hash,
    verify_password,
)
from hutong.identity.models import App, LoginSession, Node, Organization, User
from hutong.identity.schemas import (
    AppCreate,
    AppCreated,
    AppRead,
    NodeInit,
    NodeRead,
    OrganizationCreate,
    UserCreate,
    UserRead,
)

PRIVATE_KEY_FILE = SIGNING_KEY_FILE


def _write_private_key(keys_dir: Path, key: Ed25519PrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_secret(keys_dir / PRIVATE_KEY_FILE, pem)


def load_private_key(keys_dir: Path) -> Ed25519PrivateKey:
    """The node's Ed25519 private key from its owner-only file."""
    return load_keys(keys_dir).signing


def get_node(*, session: Session) -> Node | None:
    """The local node, or None before init."""
    return session.scalars(select(Node)).first()


def init_node(*, session: Session, keys_dir: Path, data: NodeInit, demo: bool = False) -> NodeRead:
    """Create the local node and its Ed25519 key pair (once). Raises Conflict if it exists."""
    check_node_code(data.code)
    if get_node(session=session) is not None:
        raise Conflict("this node is already initialized")
    if (keys_dir / PRIVATE_KEY_FILE).exists():
        key = load_private_key(keys_dir)
    else:
        key = Ed25519PrivateKey.generate()
        _write_private_key(keys_dir, key)
    ensure_subject_key(keys_dir)
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    node = Node(
        code=data.code,
        level=data.level,
        name=data.name,
        name_en=data.name_en,
        public_key=base64.b64encode(public).decode("ascii"),
        demo=demo,
        created_at=utcnow(),
    )
    session.add(node)
    session.flush()
    return NodeRead.model_validate(node, from_attributes=True)


def require_node(*, session: Session) -> Node:
    """The local node; raises NotFound with what to do if the node is not initialized."""
    node = get_node(session=session)
    if node is None:
        raise NotFound("this node is not initialized: run `hutong init`")
    return node


def _audit(session: Session, actor: Actor, action: str, **kw: object) -> None:
    from hutong.audit import service as audit_service

    audit_service.record(session=session, event=audit_service.event_for(actor, action, **kw))


# organizations ---------------------------------------------------------------------------


def create_organization(
    *, session: Session, data: OrganizationCreate, actor: Actor = SYSTEM
) -> Organization:
    """Register an organization by its credit code. Raises Invalid, Conflict."""
    node = require_node(session=session)
    uscc = check_uscc(data.uscc)
    oid = org_id(node.code, uscc)
    if session.get(Organization, oid) is not None:
        raise Conflict(f"organization {oid} already exists", field="uscc", value=uscc)
    org = Organization(
        id=oid,
        node=node.code,
        uscc=uscc,
        name=data.name,
        name_en=data.name_en,
        short_name=data.short_name,
        description=data.description,
        created_at=utcnow(),
    )
    session.add(org)
    session.flush()
    _audit(session, actor, "organization.create", detail={"organization": org.id})
    return org


def resolve_organization(*, session: Session, ref: str) -> Organization:
    """An organization by ``node:uscc``, ``uscc`` or short name. Raises NotFound, Invalid."""
    ref = (ref or "").strip()
    if ":" in ref:
        org = session.get(Organization, ref)
    elif len(ref) == 18:
        org = session.scalars(select(Organization).where(Organization.uscc == ref.upper())).first()
    else:
        org = session.scalars(select(Organization).where(Organization.short_name == ref)).first()
    if org is None:
        raise NotFound(f"no organization '{ref}'", field="organization", value=ref)
    return org


def list_organizations(*, session: Session) -> list[Organization]:
    """All organizations, by name."""
    return list(session.scalars(select(Organization).order_by(Organization.id)))


# users -----------------------------------------------------------------------------------


def _user_read(user: User) -> UserRead:
    return UserRead.model_validate(user, from_attributes=True)


def create_user(*, session: Session, data: UserCreate, actor: Actor = SYSTEM) -> UserRead:
    """Create a user with an argon2-hashed password. Raises Conflict, Invalid, NotFound."""
    if session.scalars(select(User).where(User.username == data.username)).first():
        raise Conflict(f"user '{data.username}' already exists", field="username")
    roles = sorted({r.value for r in data.roles})
    org = None
    if data.organization:
        org = resolve_organization(session=session, ref=data.organization)
    needs_org = {Role.steward, Role.consumer, Role.operator}
    if org is None and needs_org.intersection(roles):
        raise Invalid(
            "stewards, consumers and operators belong to an organization", field="organization"
        )
    user = User(
        id=str(uuid.uuid4()),
        username=data.username,
        display_name=data.display_name or data.username,
        password_hash=hash_password(data.password),
        organization_id=org.id if org else None,
        roles=roles,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    _audit(session, actor, "user.create", detail={"user": user.id, "roles": roles})
    return _user_read(user)


def _actor_for_user(user: User) -> Actor:
    return Actor(
        kind="user",
        id=user.id,
        name=user.username,
        organization_id=user.organization_id,
        roles=frozenset(user.roles),
    )


def login(
    *, session: Session, username: str, password: str, hours: int
) -> tuple[str, UserRead, dt.datetime]:
    """Check a password and open a login session. Raises Unauthorized (one message for both)."""
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active or not verify_password(user.password_hash, password):
        raise Unauthorized("wrong user name or password")
    token = new_token()
    expires = utcnow() + dt.timedelta(hours=hours)
    session.add(
        LoginSession(
            token_hash=token_hash(token), user_id=user.id, created_at=utcnow(), expires_at=expires
        )
    )
    session.flush()
    _audit(session, _actor_for_user(user), "auth.login")
    return token, _user_read(user), expires


def logout(*, session: Session, token: str) -> None:
    """End a login session."""
    row = session.get(LoginSession, token_hash(token))
    if row is not None:
        session.delete(row)
        session.flush()


def actor_from_session(*, session: Session, token: str) -> Actor | None:
    """The user behind a login-session token, or None if unknown or expired."""
    row = session.get(LoginSession, token_hash(token))
    if row is None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return _actor_for_user(user)


# apps and API keys -----------------------------------------------------------------------


def create_app(*, session: Session, actor: Actor, data: AppCreate, key_prefix: str) -> AppCreated:
    """Register an app and issue its API key, returned once. Raises Forbidden, NotFound."""
    org_ref = data.organization or actor.organization_id
    if not org_ref:
        raise Invalid("an app belongs to an organization", field="organization")
    org = resolve_organization(session=session, ref=org_ref)
    if not actor.has(Role.operator) and actor.organization_id != org.id:
        raise Forbidden("you can register apps only for your own organization")
    secret = new_token(24)
    app_id = str(uuid.uuid4())
    key = f"{key_prefix}{app_id[:8]}_{secret}"
    app = App(
        id=app_id,
        organization_id=org.id,
        name=data.name,
        key_prefix=key[: len(key_prefix) + 8],
        key_hash=token_hash(key),
        created_by=actor.id,
        created_at=utcnow(),
    )
    session.add(app)
    session.flush()
    _audit(session, actor, "app.key_issue", detail={"app": app.id, "organization": org.id})
    return AppCreated(**AppRead.model_validate(app, from_attributes=True).model_dump(), api_key=key)


def list_apps(*, session: Session, actor: Actor) -> list[AppRead]:
    """Apps the actor may see: all for operators, their organization's otherwise."""
    stmt = select(App).order_by(App.created_at)
    if not actor.has(Role.operator):
        stmt = stmt.where(App.organization_id == actor.organization_id)
    return [AppRead.model_validate(a, from_attributes=True) for a in session.scalars(stmt)]


def revoke_app(*, session: Session, actor: Actor, app_id: str) -> AppRead:
    """Revoke an app's key at once. Raises NotFound, Forbidden."""
    app = session.get(App, app_id)
    if app is None or (
        not actor.has(Role.operator) and app.organization_id != actor.organization_id
    ):
        raise NotFound(f"no app '{app_id}'")
    if app.revoked_at is None:
        app.revoked_at = utcnow()
        session.flush()
        _audit(session, actor, "app.key_revoke", detail={"app": app.id})
    return AppRead.model_validate(app, from_attributes=True)


def actor_from_api_key(*, session: Session, key: str) -> Actor | None:
    """The app holding this API key, or None if unknown. Raises Unauthorized if revoked."""
    app = session.scalars(select(App).where(App.key_hash == token_hash(key))).first()
    if app is None:
        return None
    if app.revoked_at is not None:
        raise Unauthorized("this API key has been revoked")
    return Actor(
        kind="app",
        id=app.id,
        name=app.name,
        organization_id=app.organization_id,
        roles=frozenset({Role.consumer}),
    )

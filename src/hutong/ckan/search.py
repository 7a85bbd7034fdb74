"""CKAN's search language over the catalog: ``q``, ``fq`` and ``sort`` as SQL.

``hutong.ckan.query`` parses the Solr syntax CKAN clients send; this module turns the tree
into one SQL condition on the catalog's ``resource`` table (values always bound, never
spliced) and an ORDER BY; ``hutong.ckan.faceting`` counts facets over that condition.
It reads the catalog tables and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select, true
from sqlalchemy.orm import Session

from hutong.catalog import service as catalog_service
from hutong.catalog.models import Resource
from hutong.catalog.schemas import OpenType, OrganizationRead
from hutong.ckan import mapping
from hutong.ckan.query import (
    And,
    MatchAll,
    Node,
    Not,
    QuerySyntaxError,
    Range,
    Term,
    fields_of,
    parse,
    parse_sort,
)
from hutong.core.clock import utcnow
from hutong.core.errors import Invalid
from hutong.identity import service as identity_service

DEFAULT_SORT = "score desc, metadata_modified desc"

# fq / q field names (CKAN's and hutong's) -> the canonical name compiled below.
FIELD_ALIASES = {
    "text": "text",
    "notes": "text",
    "organization": "organization",
    "owner_org": "owner_org",
    "provider": "provider",
    "tags": "tags",
    "groups": "groups",
    "base_catalog": "groups",
    "extras_base_catalog": "groups",
    "res_format": "res_format",
    "license_id": "license_id",
    "name": "name",
    "id": "id",
    "hutong_id": "hutong_id",
    "extras_hutong_id": "hutong_id",
    "code": "code",
    "extras_code": "code",
    "title": "title",
    "title_string": "title",
    "metadata_modified": "metadata_modified",
    "metadata_created": "metadata_created",
    "sharing": "sharing",
    "sharing_type": "sharing",
    "extras_sharing_type": "sharing",
    "opening": "opening",
    "open_type": "opening",
    "extras_open_type": "opening",
    "grade": "grade",
    "security_grade": "grade",
    "extras_security_grade": "grade",
    "classification": "classification",
    "extras_classification": "classification",
    "datastore_active": "hosted",
    "hosted": "hosted",
    "dataset_type": "dataset_type",
    "type": "dataset_type",
    "state": "state",
    "private": "private",
    "capacity": "capacity",
}
_DATE_FIELDS = {"metadata_modified": Resource.updated_at, "metadata_created": Resource.created_at}

# sort names -> column; "score" has no column: our text search does not rank, so it is skipped
SORT_COLUMNS: dict[str, Any] = {
    "metadata_modified": Resource.updated_at,
    "metadata_created": Resource.created_at,
    "title_string": Resource.name,
    "title": Resource.name,
    # CKAN names and UUIDs derive from the hutong id, which gives the same stable total order
    # the harvester's "id asc" paging needs.
    "name": Resource.id,
    "id": Resource.id,
}
_NOW = re.compile(
    r"^NOW(?:([+-])(\d{1,6})(SECONDS?|MINUTES?|HOURS?|DAYS?|WEEKS?))?(?:/(DAY|HOUR|MINUTE))?$"
)
_TRUE = {"true", "1", "yes", "on", "t"}
_FALSE = {"false", "0", "no", "off", "f"}


# --------------------------------------------------------------------------- helpers


def org_reads(session: Session) -> list[OrganizationRead]:
    """Every organization of the node, as read models."""
    return [
        OrganizationRead.model_validate(o, from_attributes=True)
        for o in identity_service.list_organizations(session=session)
    ]


def org_matches(org: OrganizationRead, ref: str) -> bool:
    """True if ``ref`` names the organization: CKAN name or UUID, node:uscc, credit code."""
    return ref in (
        org.id,
        org.uscc,
        org.short_name,
        mapping.organization_name(org),
        mapping.organization_slug(org),
        mapping.organization_uuid(org.id),
    ) or (len(ref) == 18 and ref.upper() == org.uscc)


def package_index(session: Session) -> dict[str, str]:
    """CKAN dataset UUID -> hutong id, over the whole catalog (UUIDs are one-way)."""
    ids = catalog_service.list_ids(session=session)
    return {mapping.package_uuid(rid): rid for rid in ids}


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def parse_time(value: str, *, now: dt.datetime | None = None) -> dt.datetime:
    """A Solr date (``2020-01-01T00:00:00Z``, ``2020-01-01``, ``NOW``, ``NOW-1DAY``) in UTC."""
    text = value.strip()
    match = _NOW.match(text.upper())
    if match is not None:
        moment = now or utcnow()
        sign, amount, unit, round_to = match.groups()
        if amount:
            unit = unit.rstrip("S")
            seconds = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "WEEK": 604800}
            delta = dt.timedelta(seconds=int(amount) * seconds[unit])
            moment = moment + delta if sign == "+" else moment - delta
        if round_to == "DAY":
            moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        elif round_to == "HOUR":
            moment = moment.replace(minute=0, second=0, microsecond=0)
        elif round_to == "MINUTE":
            moment = moment.replace(second=0, microsecond=0)
        return moment
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"'{value}' is not a date: use 2020-01-01T00:00:00Z, NOW, NOW-7DAYS or *"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _as_bool(value: str) -> bool | None:
    low = value.lower()
    return True if low in _TRUE else False if low in _FALSE else None


# --------------------------------------------------------------------------- fq -> SQL


class _Compiler:
    """Turns a parsed query into one SQL condition on ``resource``; values are bound."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._orgs: list[OrganizationRead] | None = None
        self._packages: dict[str, str] | None = None

    def orgs(self) -> list[OrganizationRead]:
        if self._orgs is None:
            self._orgs = org_reads(self.session)
        return self._orgs

    def compile(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, MatchAll):
            return true()
        if isinstance(node, Term):
            return self.term(node.field, node.value)
        if isinstance(node, Range):
            return self.range(node)
        if isinstance(node, Not):
            return not_(self.compile(node.node))
        if isinstance(node, And):
            return and_(*[self.compile(n) for n in node.nodes])
        return or_(*[self.compile(n) for n in node.nodes])

    def term(self, name: str, value: str) -> ColumnElement[bool]:
        canonical = FIELD_ALIASES[name]
        if value == "*":
            if canonical == "groups":
                return Resource.base_catalog.is_not(None)
            return true()
        match canonical:
            case "text":
                # The catalog's own text search (trigram FTS5 on SQLite, ILIKE elsewhere), so
                # CKAN clients find what the catalog's pages find. It is private today; it
                # should become a public catalog service function.
                cond = catalog_service.text_condition(self.session, value)
                return true() if cond is None else cond
            case "organization" | "owner_org" | "provider":
                ids = [o.id for o in self.orgs() if org_matches(o, value)]
                return Resource.provider_id.in_(ids) if ids else false()
            case "tags":
                return self._tag(value)
            case "groups":
                return func.coalesce(Resource.base_catalog, "") == value
            case "res_format":
                fmt = value.upper()
                if fmt in ("CSV", "PARQUET"):
                    return Resource.hosted.is_(True)
                return Resource.hosted.is_(False) if fmt == "API" else false()
            case "license_id":
                if value == mapping.OPEN_LICENSE:
                    return Resource.open_type == OpenType.open.value
                if value == mapping.CLOSED_LICENSE:
                    return Resource.open_type != OpenType.open.value
                return false()
            case "name":
                rid = mapping.resource_id_from_name(value)
                return Resource.id == rid if rid else false()
            case "id":
                if self._packages is None:
                    self._packages = package_index(self.session)
                rid = self._packages.get(value.lower())
                return Resource.id == rid if rid else false()
            case "hutong_id":
                return Resource.id == value
            case "code":
                return Resource.code == value
            case "title":
                return Resource.name.ilike(f"%{_like_escape(value)}%", escape="\\")
            case "metadata_modified" | "metadata_created":
                moment = self._time(name, value)
                return _DATE_FIELDS[canonical] == moment
            case "sharing":
                return Resource.sharing_type == value
            case "opening":
                return Resource.open_type == value
            case "grade":
                return Resource.security_grade == value
            case "classification":
                return Resource.classification.startswith(value, autoescape=True)
            case "hosted":
                flag = _as_bool(value)
                return false() if flag is None else Resource.hosted.is_(flag)
            case "dataset_type":
                return true() if value == "dataset" else false()
            case "state":
                return true() if value == "active" else false()
            case "private":
                return true() if _as_bool(value) is False else false()
            case "capacity":
                return true() if value == "public" else false()
        raise AssertionError(canonical)  # pragma: no cover - FIELD_ALIASES is closed

    def range(self, node: Range) -> ColumnElement[bool]:
        canonical = FIELD_ALIASES[node.field]
        if canonical not in _DATE_FIELDS:
            raise Invalid(
                f"fq: ranges work on metadata_modified and metadata_created, not '{node.field}'",
                field="fq",
            )
        column = _DATE_FIELDS[canonical]
        conds: list[ColumnElement[bool]] = []
        if node.low is not None:
            low = self._time(node.field, node.low)
            conds.append(column >= low if node.include_low else column > low)
        if node.high is not None:
            high = self._time(node.field, node.high)
            conds.append(column <= high if node.include_high else column < high)
        return and_(*conds) if conds else true()

    def _time(self, name: str, value: str) -> dt.datetime:
        try:
            return parse_time(value)
        except ValueError as exc:
            raise Invalid(f"fq: {name}: {exc}", field="fq", value=value) from None

    def _tag(self, tag: str) -> ColumnElement[bool]:
        # Keywords live in the JSON metadata; the text index narrows the candidates (keywords
        # are part of the search text) and the exact match is checked here, on any backend.
        rows = self.session.execute(
            select(Resource.id, Resource.meta["keywords"]).where(
                Resource.search_text.ilike(f"%{_like_escape(tag)}%", escape="\\")
            )
        )
        ids = [rid for rid, keywords in rows if tag in (keywords or [])]
        return Resource.id.in_(ids) if ids else false()


def _check_fields(node: Node, *, param: str) -> None:
    unknown = sorted(fields_of(node) - FIELD_ALIASES.keys())
    if unknown:
        raise Invalid(
            f"{param}: unknown field '{unknown[0]}'; use one of {', '.join(sorted(FIELD_ALIASES))}",
            field=param,
            value=unknown[0],
        )


def _text_only(text: str) -> Node:
    return Term("text", text)


def _q_tree(q: str) -> Node:
    """``q``: Solr syntax when it names known fields, otherwise plain text (CKAN's dismax)."""
    text = q.strip()
    if text in ("", "*", "*:*"):
        return MatchAll()
    if re.search(r"[A-Za-z_][A-Za-z0-9_]*:", text):
        try:
            tree = parse(text)
            _check_fields(tree, param="q")
        except (QuerySyntaxError, Invalid):
            return _text_only(text)
        return tree
    return _text_only(text)


def _fq_tree(fq: str) -> Node:
    try:
        tree = parse(fq)
    except QuerySyntaxError as exc:
        raise Invalid(f"fq: {exc}", field="fq", value=fq) from None
    _check_fields(tree, param="fq")
    return tree


def order_by(sort: str) -> list[Any]:
    """ORDER BY for a CKAN sort string; ties break on the id. Raises Invalid."""
    try:
        items = parse_sort(sort)
    except QuerySyntaxError as exc:
        raise Invalid(f"sort: {exc}", field="sort", value=sort) from None
    order: list[Any] = []
    for name, desc in items:
        if name == "score":
            continue
        column = SORT_COLUMNS.get(name)
        if column is None:
            allowed = ", ".join(["score", *SORT_COLUMNS])
            raise Invalid(f"sort: cannot sort by '{name}'; use {allowed}", field="sort", value=sort)
        order.append(column.desc() if desc else column.asc())
    if not order:
        order.append(Resource.updated_at.desc())
    order.append(Resource.id.asc())
    return order


def condition(session: Session, *, q: str, fq: str) -> ColumnElement[bool]:
    """One SQL condition for ``q`` and ``fq``. Raises Invalid for a malformed ``fq``."""
    compiler = _Compiler(session)
    fq_tree = _fq_tree(fq) if fq.strip() else MatchAll()
    return and_(compiler.compile(_q_tree(q)), compiler.compile(fq_tree))

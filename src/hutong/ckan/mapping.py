"""Catalog entities as CKAN dicts, in the shapes CKAN 2.10's package_show and friends return.

CKAN identifies datasets, resources and organizations by UUIDs and by URL-safe names;
hutong by node-qualified ids (``sh:<uscc>:<code>``). The UUIDs here are uuid5 of the
hutong id, so every node and every harvest derive the same UUID for the same resource.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any
from urllib.parse import quote

from hutong.catalog.schemas import (
    BaseCatalog,
    OpenType,
    OrganizationRead,
    ResourceRead,
    SecurityGrade,
    SharingType,
)

# The Action API contract we follow: CKAN 2.10 (the shapes are unchanged in 2.11).
CKAN_VERSION = "2.10.4"
LOCALE_DEFAULT = "zh_Hans_CN"
EXTENSIONS = ["datastore", "hutong"]

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://hutong.dev/ckan")

OPEN_LICENSE = "cc-by"
CLOSED_LICENSE = "other-closed"
LICENSES: dict[str, dict[str, Any]] = {
    OPEN_LICENSE: {
        "title": "Creative Commons Attribution",
        "url": "http://www.opendefinition.org/licenses/cc-by",
        "isopen": True,
    },
    CLOSED_LICENSE: {"title": "Other (Not Open)", "url": "", "isopen": False},
}

# Distribution kinds: hosted resources export CSV (the datastore-active one) and Parquet;
# resources not hosted on the node are reached through the sharing gateway.
HOSTED_KINDS = ("csv", "parquet")
GATEWAY_KINDS = ("api",)
DATASTORE_KIND = "csv"
FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("CSV", "text/csv"),
    "parquet": ("Parquet", "application/vnd.apache.parquet"),
    "api": ("API", "application/json"),
}

SHARING_LABELS = {
    SharingType.unconditional: "无条件共享",
    SharingType.conditional: "有条件共享",
    SharingType.none: "不予共享",
}
OPEN_LABELS = {
    OpenType.open: "无条件开放",
    OpenType.conditional: "有条件开放",
    OpenType.closed: "非开放",
}
GRADE_LABELS = {
    SecurityGrade.general: "一般数据",
    SecurityGrade.important: "重要数据",
    SecurityGrade.core: "核心数据",
}
BASE_CATALOG_TITLES = {
    BaseCatalog.population: "人口综合库",
    BaseCatalog.legal_person: "法人综合库",
    BaseCatalog.geography: "自然资源和空间地理库",
    BaseCatalog.social_credit: "社会信用库",
    BaseCatalog.e_licence: "电子证照库",
    BaseCatalog.health: "卫生健康库",
}

_PACKAGE_NAME = re.compile(r"^([a-z][a-z0-9_]*)-([0-9a-z]{18})-([0-9]{1,12}-[0-9]{3,6})$")


# --------------------------------------------------------------------------- ids and names


def _uuid(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}/{key}"))


def package_uuid(resource_id: str) -> str:
    """The CKAN dataset id of a resource: uuid5 of its hutong id."""
    return _uuid("dataset", resource_id)


def distribution_uuid(resource_id: str, kind: str) -> str:
    """The CKAN resource id of one distribution (csv, parquet, api) of a resource."""
    return _uuid(f"resource/{kind}", resource_id)


def organization_uuid(org_id: str) -> str:
    """The CKAN organization id of an organization (``node:uscc``)."""
    return _uuid("organization", org_id)


def group_uuid(name: str) -> str:
    return _uuid("group", name)


def tag_uuid(name: str) -> str:
    return _uuid("tag", name)


def _node_slug(node: str) -> str:
    # Node codes are dotted (sh.pudong); CKAN names allow only [a-z0-9_-].
    return node.replace(".", "_")


def package_name(resource_id: str) -> str:
    """CKAN name of a resource: ``<node>-<uscc lower>-<code>`` (``sh-1131…-101001-00001``)."""
    node, uscc, code = resource_id.split(":")
    return f"{_node_slug(node)}-{uscc.lower()}-{code}"


def resource_id_from_name(name: str) -> str | None:
    """The hutong id a CKAN package name stands for, or None if it is not such a name."""
    match = _PACKAGE_NAME.match(name or "")
    if match is None:
        return None
    node, uscc, code = match.groups()
    return f"{node.replace('_', '.')}:{uscc.upper()}:{code}"


def organization_slug(org: OrganizationRead) -> str:
    """The name an organization has when it has no short name: ``<node>-<uscc lower>``."""
    return f"{_node_slug(org.node)}-{org.uscc.lower()}"


def organization_name(org: OrganizationRead) -> str:
    """CKAN name of an organization: its short name, else its slug."""
    return org.short_name if len(org.short_name) >= 2 else organization_slug(org)


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


# --------------------------------------------------------------------------- values


def ckan_time(value: dt.datetime | None) -> str | None:
    """CKAN's timestamp format: naive UTC with microseconds, ``2024-05-01T08:00:00.000000``."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def license_id(opening: OpenType | str) -> str:
    """``cc-by`` for open resources (无条件开放), ``other-closed`` otherwise."""
    return OPEN_LICENSE if OpenType(opening) == OpenType.open else CLOSED_LICENSE


def kinds_of(resource: ResourceRead) -> tuple[str, ...]:
    """The distribution kinds of a resource, in position order."""
    return HOSTED_KINDS if resource.hosted else GATEWAY_KINDS


def _seg(value: str) -> str:
    return quote(value, safe=":")


def export_url(base_url: str, resource_id: str, fmt: str) -> str:
    return f"{base_url.rstrip('/')}/api/v1/resources/{_seg(resource_id)}/export?format={fmt}"


def resource_api_url(base_url: str, resource_id: str) -> str:
    return f"{base_url.rstrip('/')}/api/v1/resources/{_seg(resource_id)}"


# --------------------------------------------------------------------------- dicts


def tag_dict(name: str) -> dict[str, Any]:
    return {
        "display_name": name,
        "id": tag_uuid(name),
        "name": name,
        "state": "active",
        "vocabulary_id": None,
    }


def organization_dict(
    org: OrganizationRead, *, package_count: int | None = None, detail: bool = False
) -> dict[str, Any]:
    """An organization as CKAN embeds it in a dataset; ``detail`` adds organization_show keys."""
    out: dict[str, Any] = {
        "id": organization_uuid(org.id),
        "name": organization_name(org),
        "title": org.name,
        "type": "organization",
        "description": org.description,
        "image_url": "",
        "created": ckan_time(org.created_at),
        "is_organization": True,
        "approval_status": "approved",
        "state": "active",
    }
    if detail:
        extras = {
            "hutong_id": org.id,
            "node": org.node,
            "uscc": org.uscc,
            "name_en": org.name_en,
        }
        out.update(
            display_name=org.name,
            image_display_url="",
            num_followers=0,
            package_count=package_count or 0,
            extras=[{"key": k, "value": v} for k, v in sorted(extras.items()) if v],
            groups=[],
            tags=[],
            users=[],
        )
    return out


def group_dict(
    base_catalog: BaseCatalog | str, *, package_count: int | None = None, detail: bool = False
) -> dict[str, Any]:
    """A base catalog (基础库) as a CKAN group."""
    key = BaseCatalog(base_catalog)
    title = BASE_CATALOG_TITLES.get(key, key.value)
    out: dict[str, Any] = {
        "id": group_uuid(key.value),
        "name": key.value,
        "title": title,
        "display_name": title,
        "description": "",
        "image_display_url": "",
    }
    if detail:
        out.update(
            type="group",
            is_organization=False,
            approval_status="approved",
            state="active",
            image_url="",
            created=None,
            num_followers=0,
            package_count=package_count or 0,
            extras=[],
            groups=[],
            tags=[],
            users=[],
        )
    return out


def _field_info(resource: ResourceRead) -> str:
    fields = [
        {
            "name": f.name,
            "label": f.label,
            "type": f.type.value,
            "key": f.key,
            **({"pi_category": f.pi_category.value} if f.pi_category else {}),
            **({"description": f.description} if f.description else {}),
        }
        for f in resource.fields
    ]
    return json.dumps(fields, ensure_ascii=False)


def _extras(resource: ResourceRead) -> list[dict[str, str]]:
    sharing, opening = resource.sharing, resource.opening
    values: dict[str, str | None] = {
        "hutong_id": resource.id,
        "hutong_node": resource.node,
        "hutong_version": str(resource.version),
        "code": resource.code,
        "provider_uscc": resource.provider,
        "provider_id": resource.provider_id,
        "classification": resource.classification,
        "classification_name": resource.classification_name,
        "sharing_type": sharing.type.value,
        "sharing_condition": sharing.condition,
        "sharing_method": sharing.method.value,
        "sharing_reason": sharing.reason,
        "sharing_legal_basis": sharing.legal_basis,
        "open_type": opening.type.value,
        "open_condition": opening.condition,
        "open_reason": opening.reason,
        "open_legal_basis": opening.legal_basis,
        "security_grade": resource.security_grade.value,
        "update_cycle": resource.update_cycle.value,
        "base_catalog": resource.base_catalog.value if resource.base_catalog else None,
        "published_on": resource.published_on.isoformat() if resource.published_on else None,
        "source_format": resource.format,
        "hosted": "true" if resource.hosted else "false",
        "row_count": None if resource.row_count is None else str(resource.row_count),
        "data_updated_at": ckan_time(resource.data_updated_at),
        "related": json.dumps(resource.related, ensure_ascii=False) if resource.related else None,
        "fields": _field_info(resource),
    }
    return [{"key": k, "value": v} for k, v in sorted(values.items()) if v]


def resource_dict(resource: ResourceRead, kind: str, *, base_url: str) -> dict[str, Any]:
    """One distribution of a resource as a CKAN resource dict."""
    fmt, mimetype = FORMATS[kind]
    position = kinds_of(resource).index(kind)
    datastore = resource.hosted and kind == DATASTORE_KIND
    if kind == "api":
        url = resource_api_url(base_url, resource.id)
        name = f"{resource.name}（共享接口）"
        description = (
            f"经节点网关按应用场景申请共享；源格式：{resource.format}。"
            " Shared through the node gateway on an approved application."
        )
    else:
        url = export_url(base_url, resource.id, kind)
        name = f"{resource.name}（{fmt}）"
        description = f"{fmt} 格式全量导出；个人信息按授权范围脱敏。 Full export in {fmt}."
    return {
        "id": distribution_uuid(resource.id, kind),
        "package_id": package_uuid(resource.id),
        "name": name,
        "description": description,
        "format": fmt,
        "mimetype": mimetype,
        "mimetype_inner": None,
        "url": url,
        "url_type": "datastore" if datastore else None,
        "datastore_active": datastore,
        "position": position,
        "state": "active",
        "created": ckan_time(resource.created_at),
        "last_modified": ckan_time(resource.data_updated_at),
        "metadata_modified": ckan_time(resource.updated_at),
        "size": None,
        "hash": "",
        "cache_url": None,
        "cache_last_updated": None,
        "resource_type": None,
    }


def package_dict(
    resource: ResourceRead, organization: OrganizationRead, *, base_url: str
) -> dict[str, Any]:
    """A catalog resource as a CKAN dataset (package_show's result)."""
    lic = license_id(resource.opening.type)
    tags = [tag_dict(k) for k in sorted(set(resource.keywords))]
    groups = [group_dict(resource.base_catalog)] if resource.base_catalog else []
    resources = [resource_dict(resource, k, base_url=base_url) for k in kinds_of(resource)]
    return {
        "id": package_uuid(resource.id),
        "name": package_name(resource.id),
        "title": resource.name,
        "notes": resource.abstract,
        "type": "dataset",
        "state": "active",
        "private": False,
        "author": resource.provider_name,
        "author_email": None,
        "maintainer": resource.provider_name,
        "maintainer_email": None,
        "license_id": lic,
        "license_title": LICENSES[lic]["title"],
        "license_url": LICENSES[lic]["url"],
        "isopen": LICENSES[lic]["isopen"],
        "url": resource_api_url(base_url, resource.id),
        "version": str(resource.version),
        "metadata_created": ckan_time(resource.created_at),
        "metadata_modified": ckan_time(resource.updated_at),
        "creator_user_id": None,
        "owner_org": organization_uuid(organization.id),
        "organization": organization_dict(organization),
        "tags": tags,
        "num_tags": len(tags),
        "groups": groups,
        "extras": _extras(resource),
        "resources": resources,
        "num_resources": len(resources),
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }

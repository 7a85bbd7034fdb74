"""CKAN-compatible read API under /api/3/action (the CKAN 2.10 Action API contract).

Every action answers GET (query parameters) and POST (a JSON object, or a form), as CKAN
does, so ``ckanapi``, ckanext-harvest's CKAN harvester and CKAN-aware portals can read the
catalog. Routes parse and bound the parameters, call one function of ``hutong.ckan.service``
and wrap the result in CKAN's envelope; errors take CKAN's shapes (``hutong.ckan.envelope``).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from hutong.ckan import service
from hutong.ckan.envelope import bad_request, ok
from hutong.ckan.parameters import (
    Params,
    param_bool,
    param_int,
    param_json,
    param_required,
    param_str,
    param_strings,
)
from hutong.core.deps import PUBLIC, AppSettings, DbSession, requires
from hutong.core.errors import Invalid, NotFound
from hutong.core.security import Actor

router = APIRouter(tags=["ckan"])
Public = Annotated[Actor | None, Depends(requires(PUBLIC))]

# CKAN's defaults: package_search rows=10; datastore_search limit=100 and at most 32000
# (ckan.datastore.search.rows_max); organization_list 1000 names or 25 full dicts.
SEARCH_ROWS_DEFAULT = 10
DATASTORE_LIMIT_DEFAULT = 100
DATASTORE_LIMIT_MAX = 32000
ORG_LIST_MAX = 1000
ORG_LIST_ALL_FIELDS_DEFAULT = 25

# action name -> route function, for help_show
ACTIONS: dict[str, Callable[..., Any]] = {}


def _action(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        ACTIONS[name] = fn
        return router.api_route(f"/{name}", methods=["GET", "POST"], name=f"ckan_{name}")(fn)

    return register


# --------------------------------------------------------------------------- actions


@_action("help_show")
def help_show(request: Request, params: Params, _a: Public) -> JSONResponse:
    """Return the help string of an action: ``name``."""
    name = param_required(params, "name")
    fn = ACTIONS.get(name)
    if fn is None:
        raise NotFound(f"action '{name}' is not provided by this node", field="name")
    return ok(request, inspect.getdoc(fn))


@_action("status_show")
def status_show(
    request: Request, session: DbSession, settings: AppSettings, _a: Public
) -> JSONResponse:
    """Return the site: title, URL, the CKAN version whose API it follows, extensions."""
    return ok(request, service.status(session=session, site_url=settings.base_url))


@_action("package_list")
def package_list(request: Request, params: Params, session: DbSession, _a: Public) -> JSONResponse:
    """Return dataset names, by name. ``limit`` and ``offset`` page the list."""
    limit = param_int(params, "limit", default=None)
    offset = param_int(params, "offset", default=0) or 0
    return ok(request, service.package_list(session=session, offset=offset, limit=limit))


@_action("package_search")
def package_search(
    request: Request, params: Params, session: DbSession, settings: AppSettings, _a: Public
) -> JSONResponse:
    """Search datasets.

    ``q`` (text, or Solr syntax on known fields), ``fq`` (``organization:NAME``, ``tags:T``,
    ``groups:G``, ``res_format:CSV``, ``license_id:cc-by``, ``sharing:``, ``opening:``,
    ``grade:``, ``classification:``, ``metadata_modified:[2020-01-01T00:00:00Z TO NOW]``;
    ``+``/``-``/``AND``/``OR``/parentheses), ``rows`` (default 10), ``start``, ``sort``
    (``metadata_modified desc``, ``name asc``, ``title_string asc``, ``id asc``, ``score
    desc``), ``facet.field`` (JSON list), ``facet.limit``, ``facet.mincount``, ``fl``.
    """
    rows_max = settings.page_size_max
    facet_fields: list[str] = []
    if param_bool(params, "facet", default=True):
        facet_fields = param_strings(params, "facet.field", json_text=True) or []
    fl = param_str(params, "fl").strip()
    query = service.PackageSearch(
        q=param_str(params, "q"),
        fq=param_str(params, "fq"),
        rows=param_int(params, "rows", default=SEARCH_ROWS_DEFAULT, maximum=rows_max) or 0,
        start=param_int(params, "start", default=0) or 0,
        sort=param_str(params, "sort").strip() or service.DEFAULT_SORT,
        facet_fields=facet_fields,
        facet_limit=param_int(params, "facet.limit", default=50, minimum=-1) or 0,
        facet_mincount=param_int(params, "facet.mincount", default=1) or 0,
        fl=None if fl in ("", "*") else [f for f in fl.replace(",", " ").split() if f],
    )
    return ok(
        request, service.package_search(session=session, base_url=settings.base_url, query=query)
    )


@_action("package_show")
def package_show(
    request: Request, params: Params, session: DbSession, settings: AppSettings, _a: Public
) -> JSONResponse:
    """Return a dataset by ``id``: its CKAN name, its UUID, or its hutong id (node:uscc:code)."""
    ref = param_str(params, "id").strip() or param_str(params, "name_or_id").strip()
    if not ref:
        raise Invalid("Missing value", field="id")
    return ok(request, service.package_show(session=session, base_url=settings.base_url, ref=ref))


@_action("resource_show")
def resource_show(
    request: Request, params: Params, session: DbSession, settings: AppSettings, _a: Public
) -> JSONResponse:
    """Return a resource (one distribution of a dataset) by its CKAN ``id``."""
    ref = param_required(params, "id")
    return ok(request, service.resource_show(session=session, base_url=settings.base_url, ref=ref))


@_action("organization_list")
def organization_list(
    request: Request, params: Params, session: DbSession, _a: Public
) -> JSONResponse:
    """Return organization names, or dicts with ``all_fields=true``.

    ``sort`` (``title asc`` default, ``name``, ``package_count``), ``limit``, ``offset``,
    ``organizations`` (names to keep).
    """
    all_fields = param_bool(params, "all_fields", default=False)
    default_limit = ORG_LIST_ALL_FIELDS_DEFAULT if all_fields else ORG_LIST_MAX
    limit = param_int(params, "limit", default=default_limit, maximum=ORG_LIST_MAX)
    result = service.organization_list(
        session=session,
        all_fields=all_fields,
        sort=param_str(params, "sort").strip() or "title asc",
        offset=param_int(params, "offset", default=0) or 0,
        limit=limit,
        names=param_strings(params, "organizations", json_text=False),
    )
    return ok(request, result)


@_action("organization_show")
def organization_show(
    request: Request, params: Params, session: DbSession, settings: AppSettings, _a: Public
) -> JSONResponse:
    """Return an organization by ``id`` (name, UUID, node:uscc or credit code).

    ``include_datasets=true`` adds its datasets.
    """
    result = service.organization_show(
        session=session,
        base_url=settings.base_url,
        ref=param_required(params, "id"),
        include_datasets=param_bool(params, "include_datasets", default=False),
        rows_max=settings.page_size_max,
    )
    return ok(request, result)


@_action("group_list")
def group_list(request: Request, params: Params, session: DbSession, _a: Public) -> JSONResponse:
    """Return the base catalogs (基础库) as group names, or dicts with ``all_fields=true``."""
    all_fields = param_bool(params, "all_fields", default=False)
    return ok(request, service.group_list(session=session, all_fields=all_fields))


@_action("group_show")
def group_show(
    request: Request, params: Params, session: DbSession, settings: AppSettings, _a: Public
) -> JSONResponse:
    """Return a base catalog (基础库) as a group by ``id`` (name or UUID)."""
    result = service.group_show(
        session=session,
        base_url=settings.base_url,
        ref=param_required(params, "id"),
        include_datasets=param_bool(params, "include_datasets", default=False),
        rows_max=settings.page_size_max,
    )
    return ok(request, result)


def _filters(params: dict[str, Any]) -> dict[str, Any] | None:
    value = param_json(params, "filters")
    if value is None or value == {}:
        return None
    message = "filters must be a JSON object of field -> value or list of values"
    if not isinstance(value, dict):
        raise Invalid(message, field="filters", value=value)
    for key, item in value.items():
        items = item if isinstance(item, list) else [item]
        if not all(v is None or isinstance(v, str | int | float | bool) for v in items):
            raise Invalid(message, field="filters", value=key)
    return value


def _sort(params: dict[str, Any]) -> str | None:
    """datastore_search's sort: ``"a asc, b desc"`` or a list of such items."""
    value = params.get("sort")
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(v.strip() for v in value if v.strip()) or None
    return param_str(params, "sort").strip() or None


def _links(
    request: Request, query: service.DatastoreSearch, given: dict[str, Any]
) -> dict[str, str]:
    keep = {k: v for k, v in given.items() if k != "offset" and isinstance(v, str | int | float)}
    for key in ("filters", "fields"):
        if key in given and not isinstance(given[key], str):
            keep[key] = json.dumps(given[key], ensure_ascii=False)
    keep["resource_id"] = query.resource_id
    path = request.url.path
    links = {
        "start": f"{path}?{urlencode(keep)}",
        "next": f"{path}?{urlencode({**keep, 'offset': query.offset + query.limit})}",
    }
    if query.offset > 0:
        prev = max(0, query.offset - query.limit)
        links["prev"] = f"{path}?{urlencode({**keep, 'offset': prev})}"
    return links


@_action("datastore_search")
def datastore_search(
    request: Request, params: Params, session: DbSession, _a: Public
) -> JSONResponse:
    """Search the records of an open hosted resource.

    ``resource_id`` (CKAN resource id or hutong id), ``filters`` (JSON object of field ->
    value or list), ``limit`` (default 100, at most 32000), ``offset``, ``fields``, ``sort``
    (``field asc, other desc``), ``include_total``, ``records_format`` (objects, lists).
    Resources that are not open (无条件开放) are refused: their data goes through the gateway.
    """
    q = params.get("q")
    if q not in (None, "", {}):
        raise Invalid("full-text search (q) is not supported; use filters", field="q")
    records_format = param_str(params, "records_format", default="objects")
    if records_format not in ("objects", "lists"):
        raise Invalid("records_format must be objects or lists", field="records_format")
    resource_id = param_str(params, "resource_id").strip() or param_str(params, "id").strip()
    if not resource_id:
        raise Invalid("Missing value", field="resource_id")
    query = service.DatastoreSearch(
        resource_id=resource_id,
        filters=_filters(params),
        offset=param_int(params, "offset", default=0) or 0,
        limit=param_int(
            params, "limit", default=DATASTORE_LIMIT_DEFAULT, maximum=DATASTORE_LIMIT_MAX
        )
        or 0,
        sort=_sort(params),
        fields=param_strings(params, "fields", json_text=False),
        include_total=param_bool(params, "include_total", default=True),
        records_format=records_format,
    )
    result = service.datastore_search(session=session, query=query)
    result["_links"] = _links(request, query, params)
    return ok(request, result)


@router.api_route("/{action}", methods=["GET", "POST"], include_in_schema=False)
def unknown_action(action: str, _a: Public) -> JSONResponse:
    """CKAN's answer to an action it does not know."""
    return bad_request(f"Action name not known: {action}")

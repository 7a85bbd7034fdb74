"""The real ``ckanapi`` client against a real uvicorn process serving hutong.

The server runs ``hutong.app:create_app`` (``--factory``) on 127.0.0.1 and a free port, on
the test's fresh database; the test stops it by its PID, always.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import make_org, make_resource
from tests.live import LiveServer

ckanapi = pytest.importorskip("ckanapi")

pytestmark = pytest.mark.live


@pytest.fixture
def catalog(db, node):
    """Data made through the services before the server starts."""
    police = make_org(db, name="上海市公安局", short="police")
    market = make_org(db, name="上海市市场监督管理局", short="market")
    people = make_resource(db, provider_id=police)
    firms = make_resource(
        db,
        provider_id=market,
        name="企业登记注册信息",
        abstract="本市企业登记注册的基本信息。",
        classification="201001",
        base_catalog="legal_person",
        keywords=["企业"],
        fields=[{"name": "uscc", "label": "统一社会信用代码", "key": True}],
        sharing={"type": "unconditional"},
        opening={"type": "open"},
        security_grade="general",
    )
    return {"people": people, "firms": firms}


@pytest.fixture
def server(catalog, settings, database_url: str, tmp_path: Path) -> Iterator[str]:
    """A real uvicorn process on the test's database; yields its base URL."""
    live = LiveServer(home=settings.home, database_url=database_url, workdir=tmp_path)
    try:
        yield live.start().url
    finally:
        live.stop()


def _remote(url: str, *, get_only: bool = False):  # type: ignore[no-untyped-def]
    ckan = ckanapi.RemoteCKAN(url, get_only=get_only)
    # ckanapi posts to /api/action/; CKAN serves the same actions under /api/3/action/
    ckan.base_url = "api/3/action/"
    return ckan


def test_ckanapi_reads_the_catalog(server, catalog):
    for get_only in (False, True):
        ckan = _remote(server, get_only=get_only)
        try:
            status = ckan.action.status_show()
            assert status["ckan_version"].startswith("2.10.")
            assert status["site_url"] == server

            found = ckan.action.package_search(q="企业登记", rows=5)
            assert found["count"] == 1
            pkg = found["results"][0]
            assert pkg["title"] == "企业登记注册信息"
            assert pkg["organization"]["name"] == "market"

            shown = ckan.action.package_show(id=pkg["name"])
            assert shown == ckan.action.package_show(id=pkg["id"])
            assert shown == ckan.action.package_show(id=catalog["firms"].id)
            assert shown["resources"][0]["url"].startswith(server)

            assert sorted(ckan.action.organization_list()) == ["market", "police"]

            page = ckan.action.package_search(
                fq="metadata_modified:[2000-01-01T00:00:00.000000Z TO *]",
                rows=1,
                start=1,
                sort="id asc",
            )
            assert page["count"] == 2 and len(page["results"]) == 1

            with pytest.raises(ckanapi.NotFound):
                ckan.action.package_show(id="sh-no-such-dataset")
            with pytest.raises(ckanapi.ValidationError):
                ckan.action.package_search(rows=-1)
            with pytest.raises(ckanapi.NotAuthorized):
                people = ckan.action.package_show(id=catalog["people"].id)
                ckan.action.datastore_search(resource_id=people["resources"][0]["id"])
        finally:
            ckan.close()

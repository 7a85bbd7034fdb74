"""HTML pages: languages, demo banner, catalog search and facets, resource page, login, CSRF."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from hutong.core.deps import SESSION_COOKIE
from hutong.core.security import Role
from hutong.identity.models import Node
from hutong.web import i18n
from hutong.web.pages import CSRF_COOKIE, TEMPLATES_DIR
from tests.factories import PASSWORD, make_org, make_resource, make_user

DEMO_TEXT = "演示环境 DEMO"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def _login(client, username: str, password: str = PASSWORD):
    token = _csrf(client.get("/login").text)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def _two_resources(db):
    police = make_org(db, name="上海市公安局")
    market = make_org(db, name="上海市市场监督管理局")
    people = make_resource(db, provider_id=police)
    firms = make_resource(
        db,
        provider_id=market,
        name="企业登记注册信息",
        abstract="市场主体登记信息",
        classification="201001",
        classification_name="法人基础信息",
        base_catalog="legal_person",
        keywords=["企业"],
        sharing={"type": "unconditional"},
        opening={"type": "open"},
        fields=[{"name": "uscc", "label": "统一社会信用代码", "key": True}],
        related=[people.id],
    )
    return people, firms


# languages -----------------------------------------------------------------------------------


def test_home_renders_in_chinese_by_default(client, db):
    org = make_org(db, name="上海市公安局")
    make_resource(db, provider_id=org)
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in r.text
    assert "上海市公共数据共享平台" in r.text
    assert 'action="/catalog"' in r.text and 'name="q"' in r.text
    assert "数据资源" in r.text and "注册单位" in r.text and "托管数据表" in r.text
    assert "人口基本信息" in r.text  # recent resources
    assert re.search(r'stat-number">1</span> <span class="stat-label">数据资源', r.text)


def test_home_renders_in_english_and_remembers_it(client, db):
    r = client.get("/", params={"lang": "en"})
    assert r.status_code == 200
    assert '<html lang="en">' in r.text
    assert "Shanghai Public Data Sharing Platform" in r.text
    assert "Hosted tables" in r.text
    assert r.cookies.get(i18n.LANG_COOKIE) == "en"
    # the cookie keeps the choice on the next page
    assert '<html lang="en">' in client.get("/catalog").text
    assert '<html lang="zh-CN">' in client.get("/", params={"lang": "zh"}).text


def test_accept_language_chooses_english(client, db):
    r = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,zh-CN;q=0.5"})
    assert '<html lang="en">' in r.text
    r = client.get("/", headers={"Accept-Language": "fr-FR, zh;q=0.8, en;q=0.5"})
    assert '<html lang="zh-CN">' in r.text


def test_english_pages_keep_the_chinese_domain_terms(client, db):
    org = make_org(db)
    res = make_resource(db, provider_id=org)
    html = client.get(f"/catalog/{res.id}", params={"lang": "en"}).text
    assert "Conditional sharing" in html and "有条件共享" in html
    assert "Security grade" in html and "安全级别" in html
    assert "Update cycle" in html and "更新周期" in html


# demo banner --------------------------------------------------------------------------------


def test_demo_banner_on_every_page_when_the_node_is_demo(client, db):
    org = make_org(db)
    res = make_resource(db, provider_id=org)
    pages = ["/", "/catalog", f"/catalog/{res.id}", "/login", "/terms/sharing", "/catalog/x:y:z"]
    for url in pages:
        assert DEMO_TEXT not in client.get(url).text, url
    with db.session_scope() as s:
        s.scalars(select(Node)).one().demo = True
    for url in pages:
        html = client.get(url).text
        assert DEMO_TEXT in html and "generated, fictitious data" in html, url


# catalog ------------------------------------------------------------------------------------


def test_catalog_search_with_chinese_term_and_facet_filter(client, db):
    _two_resources(db)
    r = client.get("/catalog", params={"q": "人口"})
    assert r.status_code == 200
    # found, with the term highlighted; the other resource is not
    assert "<mark>人口</mark>基本信息" in r.text and "企业登记注册信息" not in r.text

    r = client.get("/catalog", params={"sharing": "unconditional"})
    assert "企业登记注册信息" in r.text and "人口基本信息" not in r.text
    # the selected facet links back to the unfiltered list
    assert 'href="/catalog" aria-current="true"' in r.text

    r = client.get("/catalog", params={"q": "统一社会信用", "base_catalog": "legal_person"})
    assert "企业登记注册信息" in r.text
    r = client.get("/catalog", params={"q": "人口", "sharing": "unconditional"})
    assert "没有符合条件的资源" in r.text


def test_catalog_facets_link_to_filtered_searches(client, db):
    _two_resources(db)
    html = client.get("/catalog").text
    assert "共 2 条" in html or "第 1–2 条，共 2 条" in html
    link = re.search(r'href="(/catalog\?sharing=conditional)"', html)
    assert link, "a facet value links to its filter"
    filtered = client.get(link.group(1).replace("&amp;", "&")).text
    assert "人口基本信息" in filtered and "企业登记注册信息" not in filtered
    # provider facets show names, counts appear next to them
    assert "上海市市场监督管理局" in html


def test_catalog_paging_and_sort(client, db):
    org = make_org(db)
    for i in range(3):
        make_resource(db, provider_id=org, name=f"资源{i}")
    html = client.get("/catalog", params={"limit": 2, "sort": "name_asc"}).text
    assert html.index("资源0") < html.index("资源1")
    assert "资源2" not in html
    assert 'rel="next" href="/catalog?sort=name_asc&amp;limit=2&amp;offset=2"' in html
    second = client.get("/catalog", params={"limit": 2, "sort": "name_asc", "offset": 2}).text
    assert "资源2" in second and 'rel="prev"' in second


def test_bad_catalog_parameters_render_an_html_error(client, db):
    r = client.get("/catalog", params={"sharing": "sometimes"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert "参数无效" in r.text
    assert client.get("/catalog", params={"sort": "random"}).status_code == 422


def test_html_in_the_query_is_escaped(client, db):
    q = '<script>alert("x")</script>'
    r = client.get("/catalog", params={"q": q})
    assert r.status_code == 200
    assert "<script>" not in r.text
    assert "&lt;script&gt;" in r.text
    assert "script-src 'none'" in r.headers["content-security-policy"]


# resource -----------------------------------------------------------------------------------


def test_resource_page_shows_the_full_entry(client, db):
    people, firms = _two_resources(db)
    r = client.get(f"/catalog/{people.id}")
    assert r.status_code == 200
    html = r.text
    for text in [
        "人口基本信息",
        people.code,
        "上海市公安局",
        people.provider,
        "101001",
        "人口基础信息",
        "有条件共享",
        "含个人信息",
        "《上海市数据条例》",  # sharing with reason and legal basis
        "非开放",
        "《个人信息保护法》",
        "重要",
        "每日",
        "人口基础库",
        "resident_id",
        "公民身份号码",
        "居民身份证号",
        "主键",  # fields with PI category
    ]:
        assert text in html, text
    assert f'href="/dataset/{people.id}.ttl"' in html
    assert f'href="/api/v1/resources/{people.id}"' in html
    assert f'href="/catalog/{people.id}/versions"' in html
    assert 'href="/terms/sharing"' in html
    # related resources are links
    related = client.get(f"/catalog/{firms.id}").text
    assert f'href="/catalog/{people.id}">人口基本信息</a>' in related


def test_resource_versions_page(client, db):
    org = make_org(db)
    res = make_resource(db, provider_id=org)
    r = client.get(f"/catalog/{res.id}/versions")
    assert r.status_code == 200 and "created" in r.text


def test_unknown_resource_is_a_404_page(client, db):
    r = client.get("/catalog/sh:113100000000000000:999999-00001")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "未找到" in r.text and "404" in r.text
    assert 'href="/"' in r.text


# login, logout, CSRF ------------------------------------------------------------------------


def test_login_sets_the_session_cookie_and_shows_the_user(client, db):
    org = make_org(db)
    steward = make_user(db, roles=[Role.steward], org_id=org, username="zhang.san")
    r = _login(client, steward.name)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    home = client.get("/").text
    assert "zhang.san" in home and "数源单位" in home
    assert 'action="/logout"' in home and 'href="/login"' not in home


def test_wrong_password_shows_the_form_again_with_401(client, db):
    make_user(db, roles=[Role.citizen], username="li.si")
    r = _login(client, "li.si", "not the password")
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text
    assert 'value="li.si"' in r.text  # the user name is kept
    assert SESSION_COOKIE not in r.cookies
    r = client.post(
        "/login",
        params={"lang": "en"},
        data={
            "username": "li.si",
            "password": "nope",
            "csrf_token": _csrf(client.get("/login").text),
        },
    )
    assert r.status_code == 401 and "Wrong user name or password" in r.text


def test_post_without_a_valid_csrf_token_is_refused(client, db):
    make_user(db, roles=[Role.citizen], username="wang.wu")
    client.get("/login")  # sets the CSRF cookie
    r = client.post("/login", data={"username": "wang.wu", "password": PASSWORD})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    assert "表单已过期" in r.text
    r = client.post(
        "/login", data={"username": "wang.wu", "password": PASSWORD, "csrf_token": "0" * 64}
    )
    assert r.status_code == 403
    r = client.post(
        "/login", data={"username": "wang.wu", "password": PASSWORD, "csrf_token": "令牌"}
    )
    assert r.status_code == 403
    # a token from another browser (another CSRF cookie) does not work either
    stolen = _csrf(client.get("/login").text)
    client.cookies.set(CSRF_COOKIE, "another-secret")
    r = client.post(
        "/login", data={"username": "wang.wu", "password": PASSWORD, "csrf_token": stolen}
    )
    assert r.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_logout_ends_the_session(client, db):
    make_user(db, roles=[Role.citizen], username="zhao.liu")
    assert _login(client, "zhao.liu").status_code == 303
    token = client.cookies.get(SESSION_COOKIE)
    home = client.get("/").text
    assert client.post("/logout", data={}).status_code == 403  # no token
    r = client.post("/logout", data={"csrf_token": _csrf(home)}, follow_redirects=False)
    assert r.status_code == 303
    assert client.cookies.get(SESSION_COOKIE) is None
    assert "zhao.liu" not in client.get("/").text
    # the old session token is dead, not only forgotten by the browser
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401


def test_logout_without_login_is_a_401_page(client, db):
    r = client.post("/logout")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("text/html")
    assert 'href="/login"' in r.text


# terms, assets, translations ----------------------------------------------------------------


def test_sharing_terms_page(client, db):
    html = client.get("/terms/sharing").text
    assert "以共享为原则、不共享为例外" in html
    assert "应用场景" in html and "不得" in html
    en = client.get("/terms/sharing", params={"lang": "en"}).text
    assert "application scenario" in en and "redistributed" in en


def test_static_assets_are_served_by_the_node(client, db):
    css = client.get("/static/hutong.css")
    assert css.status_code == 200 and "demo-banner" in css.text
    assert client.get("/static/logo.svg").status_code == 200
    html = client.get("/").text
    assert "http://" not in html.split("<body")[0] and "https://" not in html.split("<body")[0]


def test_every_translation_has_both_languages_and_every_key_used_exists():
    for key, entry in i18n.TRANSLATIONS.items():
        assert set(entry) == set(i18n.LANGUAGES), key
        assert all(v for v in entry.values()), key
    used: set[str] = set()
    for template in Path(TEMPLATES_DIR).glob("*.html"):
        used |= set(re.findall(r"""\b(?:t|term)\('([a-z_.]+[a-z_])'""", template.read_text()))
    assert used, "no translation keys found in the templates"
    missing = sorted(k for k in used if k not in i18n.TRANSLATIONS)
    assert not missing, missing


def test_every_page_route_declares_a_permission():
    from hutong.core.deps import permission_of
    from hutong.web.pages import router

    declared = {(tuple(sorted(r.methods)), r.path): permission_of(r) for r in router.routes}
    assert all(declared.values()), declared
    assert declared[(("POST",), "/logout")] == ("authenticated",)
    assert declared[(("GET",), "/")] == ("public",)

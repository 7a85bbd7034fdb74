"""Audit pages: a citizen's data uses, the audit log by role, statistics, navigation."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from stdnum.cn import ric

from hutong.audit import checkpoints
from hutong.audit import service as audit_service
from hutong.audit.entry import AuditEvent, subject_key
from hutong.core.deps import permission_of
from hutong.core.keys import load_keys
from hutong.core.security import Actor, Role
from hutong.identity.models import User
from hutong.sharing.models import Scenario
from hutong.web import i18n
from hutong.web.audit_pages import daily_chart
from hutong.web.pages import AUDIT_READERS, ROLE_NAV, _env, nav_links, router
from tests.factories import PASSWORD, make_org, make_resource, make_user


def rid(seq: int) -> str:
    base = f"31010119800101{seq:03d}"
    return base + ric.calc_check_digit(base + "0")


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def _login(client, username: str) -> None:
    token = _csrf(client.get("/login").text)
    r = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303


def _scenario(s, org: str, name: str, purpose: str, **over) -> str:
    today = dt.date.today()
    values = {
        "id": str(uuid.uuid4()),
        "organization_id": org,
        "name": name,
        "purpose": purpose,
        "legal_basis": "社会救助暂行办法",
        "valid_from": today,
        "valid_until": today + dt.timedelta(days=365),
        "confidential": False,
        "created_at": dt.datetime.now(dt.UTC),
    }
    values.update(over)
    s.add(Scenario(**values))
    s.flush()
    return values["id"]


def _citizen(db, settings, username: str, resident_id: str) -> Actor:
    """A citizen whose verified identity (subject key) is the given resident ID."""
    citizen = make_user(db, roles=[Role.citizen], username=username)
    secret = load_keys(settings.keys_dir).subject_hmac
    with db.session_scope() as s:
        s.get(User, citizen.id).subject_key = subject_key(resident_id, secret=secret)
    return citizen


def _sign(db, settings) -> None:
    with db.session_scope() as s:
        checkpoints.checkpoint_now(s, keys_dir=settings.keys_dir)


# a citizen's data uses ----------------------------------------------------------------------


def test_citizen_sees_own_uses_with_scenario_and_purpose(client, db, settings):
    police = make_org(db, name="上海市公安局")
    civil = make_org(db, name="上海市民政局")
    people = make_resource(db, provider_id=police)
    marriages = make_resource(db, provider_id=civil, name="婚姻登记信息")
    secret = load_keys(settings.keys_dir).subject_hmac
    zhang_key, li_key = subject_key(rid(1), secret=secret), subject_key(rid(2), secret=secret)
    today = dt.date.today()
    with db.session_scope() as s:
        relief = _scenario(s, civil, "低保审核", "核对申请人户籍")
        hidden = _scenario(
            s,
            civil,
            "专项侦查行动",
            "秘密侦查",
            confidential=True,
            disclose_on=today + dt.timedelta(days=30),
        )
        disclosed = _scenario(
            s,
            civil,
            "走私案件核查",
            "核查涉案人员",
            confidential=True,
            disclose_on=today - dt.timedelta(days=1),
        )

        def use(scenario: str, subject: str, resource: str, **kw) -> int:
            return audit_service.record(
                session=s,
                event=AuditEvent(
                    action="data.query",
                    actor_org=civil,
                    resource=resource,
                    provider_org=police,
                    fields=["name", "birth_date"],
                    scenario=scenario,
                    records=1,
                    subjects=[subject],
                    **kw,
                ),
            )

        seen = use(relief, zhang_key, people.id, time=dt.datetime(2026, 1, 1, 0, 30, tzinfo=dt.UTC))
        use(hidden, zhang_key, people.id)
        use(disclosed, zhang_key, people.id)
        use(relief, li_key, marriages.id)
    _citizen(db, settings, "zhang", rid(1))
    _citizen(db, settings, "li", rid(2))

    _login(client, "zhang")
    r = client.get("/my/data-uses")
    assert r.status_code == 200
    html = r.text
    for text in ("我的数据使用记录", "上海市民政局", "人口基本信息", "低保审核", "核对申请人户籍"):
        assert text in html, text
    # fields by their catalog label, the field name as a tooltip
    assert '<span title="name">姓名</span>、<span title="birth_date">出生日期</span>' in html
    # Beijing time, with the UTC instant kept for machines
    assert '<time datetime="2026-01-01T00:30:00Z">2026-01-01 08:30:00</time>' in html
    # a confidential use shows after its disclosure date, not before; the page says why
    assert "走私案件核查" in html and "核查涉案人员" in html
    assert "专项侦查行动" not in html and "秘密侦查" not in html
    assert "公开日期之后" in html
    # li's use is not zhang's
    assert "婚姻登记信息" not in html
    assert "第 1–2 条，共 2 条" in html
    # each use links to its inclusion proof, which the citizen may fetch once signed
    proof_url = f"/api/v1/audit/entries/{seen}/proof"
    assert f'href="{proof_url}"' in html
    _sign(db, settings)
    proof = client.get(proof_url)
    assert proof.status_code == 200 and proof.json()["leaf_index"] == seen

    paged = client.get("/my/data-uses", params={"limit": 1}).text
    assert 'rel="next" href="/my/data-uses?limit=1&amp;offset=1"' in paged
    assert "走私案件核查" in paged and "低保审核" not in paged  # newest first

    client.post("/logout", data={"csrf_token": _csrf(html)})
    _login(client, "li")
    li_html = client.get("/my/data-uses").text
    assert "婚姻登记信息" in li_html and "人口基本信息" not in li_html


def test_citizen_without_a_verified_identity_gets_a_message(client, db):
    make_user(db, roles=[Role.citizen], username="wang")
    _login(client, "wang")
    r = client.get("/my/data-uses")
    assert r.status_code == 200
    assert "尚未核验身份" in r.text and "身份核验" in r.text
    en = client.get("/my/data-uses", params={"lang": "en"})
    assert en.status_code == 200 and "Identity not yet verified" in en.text


def test_anonymous_visitors_get_the_401_page_with_a_login_link(client, db):
    for url in ("/my/data-uses", "/audit", "/audit/stats"):
        r = client.get(url)
        assert r.status_code == 401, url
        assert r.headers["content-type"].startswith("text/html")
        assert "需要登录" in r.text and 'href="/login"' in r.text


def test_pages_refuse_the_wrong_role_with_a_403_page(client, db):
    org = make_org(db)
    make_user(db, roles=[Role.citizen], username="zhao")
    make_user(db, roles=[Role.steward], org_id=org, username="qian")
    _login(client, "zhao")
    r = client.get("/audit")
    assert r.status_code == 403 and "无权访问" in r.text
    assert client.get("/audit/stats").status_code == 403
    client.cookies.clear()
    _login(client, "qian")
    r = client.get("/my/data-uses")
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")


# the audit log ------------------------------------------------------------------------------


def _two_organizations_calls(db):
    police = make_org(db, name="上海市公安局")
    market = make_org(db, name="上海市市场监督管理局")
    people = make_resource(db, provider_id=police)
    firms = make_resource(db, provider_id=market, name="企业登记注册信息")
    with db.session_scope() as s:
        for org, res, records in ((police, people, 2), (market, firms, 5)):
            audit_service.record(
                session=s,
                event=AuditEvent(
                    action="data.query",
                    actor_org=org,
                    resource=res.id,
                    provider_org=org,
                    fields=["name"],
                    records=records,
                ),
            )
    return police, market, people, firms


def test_steward_sees_own_organization_entries_not_another(client, db, settings):
    police, market, people, firms = _two_organizations_calls(db)
    make_user(db, roles=[Role.steward], org_id=police, username="steward.police")
    _login(client, "steward.police")
    r = client.get("/audit")
    assert r.status_code == 200
    html = r.text
    assert f'href="/catalog/{people.id}"' in html and "人口基本信息" in html
    assert firms.id not in html and "企业登记注册信息" not in html
    assert "上海市公安局" in html  # the organization's name, not only its id
    # the verifier key and how to verify, even before the first checkpoint
    assert "尚未签署检查点" in html
    vkey = client.get("/api/v1/audit/verifier-key").json()["verifier_key"]
    assert f"hutong audit verify --offline audit.jsonl --pubkey '{vkey}'" in html

    _sign(db, settings)
    html = client.get("/audit").text
    cp = client.get("/api/v1/audit/checkpoint").json()
    assert f"<dd>{cp['tree_size']}</dd>" in html and cp["root_hash"] in html
    assert '<pre class="signed-note">hutong.sh/audit\n' in html

    only_queries = client.get("/audit", params={"action": "data.query"}).text
    assert "<code>data.query</code>" in only_queries
    assert "<code>resource.create</code>" not in only_queries
    assert "resource.create" in html  # unfiltered, the resource's registration is there
    by_resource = client.get("/audit", params={"resource": firms.id}).text
    assert "没有符合条件的审计记录" in by_resource
    # each entry links to the entries of its resource
    link = re.search(r'href="(/audit\?resource=[^"]+)">只看此资源', html)
    assert link
    only_people = client.get(link.group(1)).text
    assert "<code>data.query</code>" in only_people and "auth.login" not in only_people


def test_auditor_sees_every_organization_and_pages_through(client, db):
    police, market, people, firms = _two_organizations_calls(db)
    make_user(db, roles=[Role.auditor], username="auditor")
    _login(client, "auditor")
    html = client.get("/audit").text
    assert people.id in html and firms.id in html
    first = client.get("/audit", params={"action": "data.query", "limit": 1}).text
    assert firms.id in first and people.id not in first  # newest first
    assert 'rel="next" href="/audit?action=data.query&amp;limit=1&amp;offset=1"' in first
    second = client.get("/audit", params={"action": "data.query", "limit": 1, "offset": 1})
    assert people.id in second.text and 'rel="next"' not in second.text
    assert client.get("/audit", params={"limit": 100000}).status_code == 422


# statistics ---------------------------------------------------------------------------------


def test_stats_render_totals_groups_and_a_daily_chart(client, db):
    police = make_org(db, name="上海市公安局")
    civil = make_org(db, name="上海市民政局")
    people = make_resource(db, provider_id=police)
    now = dt.datetime.now(dt.UTC)
    with db.session_scope() as s:
        relief = _scenario(s, civil, "低保审核", "核对申请人户籍")
        for days_ago, records in ((2, 3), (0, 4), (0, 5)):
            audit_service.record(
                session=s,
                event=AuditEvent(
                    action="data.query",
                    actor_org=civil,
                    resource=people.id,
                    provider_org=police,
                    scenario=relief,
                    records=records,
                    time=now - dt.timedelta(days=days_ago),
                ),
            )
    make_user(db, roles=[Role.operator], org_id=police, username="operator")
    _login(client, "operator")
    r = client.get("/audit/stats")
    assert r.status_code == 200
    html = r.text
    assert '<span class="stat-number">3</span> <span class="stat-label">数据调用次数' in html
    assert '<span class="stat-number">12</span> <span class="stat-label">交付记录数' in html
    assert "上海市民政局" in html
    # two days with calls, one empty day between them: two bars on a three-day axis
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert svg.count('<rect class="bar"') == 2
    assert (now - dt.timedelta(days=2)).date().isoformat() in svg
    assert "2 次调用，9 条记录" in svg  # a tooltip on each bar
    by_scenario = client.get("/audit/stats", params={"group_by": "scenario"}).text
    assert "低保审核" in by_scenario
    by_resource = client.get("/audit/stats", params={"group_by": "resource"}).text
    assert f'<a href="/catalog/{people.id}">人口基本信息</a>' in by_resource
    later = client.get("/audit/stats", params={"since": now.date().isoformat()}).text
    assert '<span class="stat-number">2</span>' in later
    bad = client.get("/audit/stats", params={"group_by": "nonsense"})
    assert bad.status_code == 422 and "参数无效" in bad.text


def test_stats_of_a_consumer_are_its_own(client, db):
    police, market, people, firms = _two_organizations_calls(db)
    make_user(db, roles=[Role.consumer], org_id=market, username="consumer.market")
    _login(client, "consumer.market")
    html = client.get("/audit/stats", params={"group_by": "resource"}).text
    assert "企业登记注册信息" in html and "人口基本信息" not in html
    assert '<span class="stat-number">5</span>' in html


def test_empty_stats_say_so():
    chart = daily_chart([])
    assert chart["bars"] == []


def test_daily_chart_is_a_time_scale():
    chart = daily_chart(
        [
            {"day": "2026-03-01", "calls": 4, "records": 8},
            {"day": "2026-03-04", "calls": 2, "records": 2},
        ]
    )
    first, last = chart["bars"]
    assert chart["days"] == 4 and chart["max"] == 4
    assert first["y"] == chart["top"] and first["y"] + first["height"] == chart["base"]
    assert last["height"] == first["height"] / 2
    # the last bar sits in the fourth of four slots, not right after the first
    assert last["x"] > chart["left"] + 3 * (chart["right"] - chart["left"]) / 4 - 1


# languages, escaping, navigation, permissions -----------------------------------------------


def test_audit_pages_render_in_both_languages(client, db, settings):
    org = make_org(db)
    make_user(db, roles=[Role.auditor, Role.citizen], org_id=org, username="both")
    _login(client, "both")
    expected = {
        "/my/data-uses": ("我的数据使用记录", "How my data was used"),
        "/audit": ("审计日志", "Audit log"),
        "/audit/stats": ("调用统计", "Usage statistics"),
    }
    for url, (zh, en) in expected.items():
        r = client.get(url, params={"lang": "zh"})
        assert r.status_code == 200 and '<html lang="zh-CN">' in r.text and zh in r.text, url
        r = client.get(url, params={"lang": "en"})
        assert r.status_code == 200 and '<html lang="en">' in r.text and en in r.text, url
    assert "How to verify" in client.get("/audit").text  # the cookie keeps English
    assert "Records delivered" in client.get("/audit/stats").text


def test_html_in_a_resource_name_is_escaped(client, db, settings):
    police = make_org(db)
    evil = '<script>alert("x")</script>'
    res = make_resource(db, provider_id=police, name=evil)
    secret = load_keys(settings.keys_dir).subject_hmac
    with db.session_scope() as s:
        audit_service.record(
            session=s,
            event=AuditEvent(
                action="data.lookup",
                actor_org=police,
                resource=res.id,
                provider_org=police,
                records=1,
                subjects=[subject_key(rid(5), secret=secret)],
            ),
        )
    _citizen(db, settings, "sun", rid(5))
    make_user(db, roles=[Role.operator], org_id=police, username="op")
    _login(client, "sun")
    pages = [client.get("/my/data-uses").text]
    client.cookies.clear()
    _login(client, "op")
    pages.append(client.get("/audit/stats", params={"group_by": "resource"}).text)
    pages.append(client.get("/audit").text)
    for html in pages:
        assert "<script>" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_header_links_follow_the_roles():
    def actor(*roles: Role) -> Actor:
        return Actor(kind="user", id="u", roles=frozenset(roles))

    assert nav_links(None) == []
    assert [link["href"] for link in nav_links(actor(Role.citizen))] == ["/my/data-uses"]
    for role in AUDIT_READERS:
        assert [link["href"] for link in nav_links(actor(role))] == ["/audit", "/audit/stats"]
    html = _env.get_template("_nav_links.html").render(
        nav_links=nav_links(actor(Role.steward)),
        path="/audit",
        t=lambda key: i18n.translate(key, "zh"),
    )
    assert '<a href="/audit" aria-current="page">审计日志</a>' in html
    assert '<a href="/audit/stats">调用统计</a>' in html
    assert "/my/data-uses" not in html


def test_each_link_and_its_page_require_the_same_roles():
    declared = {r.path: permission_of(r) for r in router.routes}
    for href, _key, roles in ROLE_NAV:
        assert declared[href] == tuple(roles), href
    assert declared["/my/data-uses"] == ("citizen",)

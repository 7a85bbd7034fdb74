"""Demo Shanghai node (``sh``): its departments and its catalog of public data resources.

Everything here is synthetic but shaped like the real thing: departments carry valid
unified social credit codes (GB 32100, with a GB 11714 organization code inside), and
every resource is a dict that validates as :class:`hutong.catalog.schemas.ResourceCreate`.
Pure data and pure functions: no database, no network.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from stdnum.cn import uscc as stdnum_uscc

NODE = "sh"

# ---------------------------------------------------------------------------
# Credit codes
# ---------------------------------------------------------------------------

# Characters allowed in a unified social credit code (GB 32100): no I, O, Z, S, V.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organization_check_char(base8: str) -> str:
    """The check character of a GB 11714 organization code over its first 8 characters.

    Digits count as themselves and letters as A=10 ... Z=35; the check is
    ``11 - (weighted sum mod 11)``, written ``X`` for 10 and ``0`` for 11.
    """
    if len(base8) != 8:
        raise ValueError("an organization code body has 8 characters")
    total = sum(int(c, 36) * w for c, w in zip(base8.upper(), _GB11714_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def make_uscc(prefix: str, region: str, org_base8: str) -> str:
    """Build a valid unified social credit code.

    ``prefix`` is the registration department and organization type (``11`` a government
    organ registered by 机构编制, ``12`` a public institution, ``91`` an enterprise
    registered by 市场监管), ``region`` the 6-digit administrative division code and
    ``org_base8`` the first 8 characters of the organization code, whose 9th character
    (GB 11714) and the code's 18th character (GB 32100) are computed here.
    """
    body = f"{prefix}{region}{org_base8}{organization_check_char(org_base8)}"
    if len(body) != 17 or any(c not in USCC_ALPHABET for c in body):
        raise ValueError(f"cannot build a credit code from {prefix!r}, {region!r}, {org_base8!r}")
    return body + stdnum_uscc.calc_check_digit(body)


# ---------------------------------------------------------------------------
# Departments
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Department:
    """An organization on the demo node (its identifier is ``sh:<uscc>``)."""

    uscc: str
    name: str
    name_en: str
    short_name: str
    roles: tuple[str, ...]
    description: str


_SC = ("steward", "consumer")

# (prefix, region, organization code body, name, English name, slug, roles, description)
_DEPARTMENT_ROWS: tuple[tuple[str, str, str, str, str, str, tuple[str, ...], str], ...] = (
    (
        "12",
        "310000",
        "MB2F0A01",
        "上海市大数据中心",
        "Shanghai Big Data Center",
        "bigdata",
        ("operator", "consumer"),
        "市级公共数据平台运营单位，负责大数据资源平台建设运维、公共数据归集共享与质量监督。",
    ),
    (
        "11",
        "310000",
        "MB2F1A02",
        "上海市公安局",
        "Shanghai Municipal Public Security Bureau",
        "police",
        _SC,
        "户籍管理、居民身份证、居住证、出入境和机动车驾驶人管理等人口基础数据的数源单位。",
    ),
    (
        "11",
        "310000",
        "MB2F1B03",
        "上海市民政局",
        "Shanghai Municipal Civil Affairs Bureau",
        "civil_affairs",
        _SC,
        "婚姻登记、社会救助、社会组织登记、殡葬管理、行政区划和地名管理。",
    ),
    (
        "11",
        "310000",
        "MB2F1C04",
        "上海市人力资源和社会保障局",
        "Shanghai Municipal Human Resources and Social Security Bureau",
        "hrss",
        _SC,
        "就业登记、社会保险参保与待遇、职业资格和人才服务。",
    ),
    (
        "11",
        "310000",
        "MB2F1D05",
        "上海市卫生健康委员会",
        "Shanghai Municipal Health Commission",
        "health",
        _SC,
        "医疗机构和医师执业管理、居民电子健康档案、预防接种和妇幼保健。",
    ),
    (
        "11",
        "310000",
        "MB2F1E06",
        "上海市市场监督管理局",
        "Shanghai Municipal Administration for Market Regulation",
        "market",
        _SC,
        "市场主体登记注册、营业执照、行政许可与行政处罚、企业信息公示。",
    ),
    (
        "11",
        "310000",
        "MB2F1F07",
        "上海市规划和自然资源局",
        "Shanghai Municipal Planning and Natural Resources Bureau",
        "planning",
        _SC,
        "不动产登记、土地供应、标准地址和空间地理数据。",
    ),
    (
        "11",
        "310000",
        "MB2F1G08",
        "上海市发展和改革委员会",
        "Shanghai Municipal Development and Reform Commission",
        "ndrc",
        _SC,
        "社会信用体系建设牵头部门，负责公共信用信息归集、信用评价和失信主体名单管理。",
    ),
    (
        "11",
        "310000",
        "MB2F1H09",
        "上海市医疗保障局",
        "Shanghai Municipal Healthcare Security Bureau",
        "medical_security",
        _SC,
        "基本医疗保险参保登记、医疗费用结算和定点医药机构管理。",
    ),
    (
        "11",
        "310000",
        "MB2F1J10",
        "上海市教育委员会",
        "Shanghai Municipal Education Commission",
        "education",
        _SC,
        "各级各类学校管理和中小学学生学籍管理。",
    ),
    (
        "11",
        "310000",
        "MB2F1K11",
        "上海市交通委员会",
        "Shanghai Municipal Transportation Commission",
        "transport",
        _SC,
        "公共交通线路站点、出租汽车和道路运输从业人员管理。",
    ),
    (
        "11",
        "310000",
        "MB2F1L12",
        "上海市住房和城乡建设管理委员会",
        "Shanghai Municipal Housing and Urban-Rural Development Management Commission",
        "housing",
        _SC,
        "商品房预售许可、住房保障和建设工程管理。",
    ),
    (
        "11",
        "310000",
        "MB2F1M13",
        "上海市生态环境局",
        "Shanghai Municipal Bureau of Ecology and Environment",
        "ecology",
        _SC,
        "环境质量监测、排污许可和生态环境执法。",
    ),
    (
        "11",
        "310000",
        "MB2F1N14",
        "上海市司法局",
        "Shanghai Municipal Bureau of Justice",
        "justice",
        _SC,
        "律师和公证管理、社区矫正、行政执法监督。",
    ),
    (
        "11",
        "310000",
        "MB2F1P15",
        "国家税务总局上海市税务局",
        "Shanghai Municipal Tax Service, State Taxation Administration",
        "tax",
        _SC,
        "税费征收管理、纳税人登记和纳税信用评价。",
    ),
    (
        "11",
        "310000",
        "MB2F1Q16",
        "上海市高级人民法院",
        "Shanghai High People's Court",
        "court",
        _SC,
        "审判执行工作，公布失信被执行人名单信息。",
    ),
    (
        "11",
        "310115",
        "MB2F2R17",
        "上海市浦东新区人民政府",
        "Shanghai Pudong New Area People's Government",
        "pudong",
        ("consumer", "steward"),
        "浦东新区区级政府，城市运行“一网统管”和区级公共数据的使用与提供方。",
    ),
)

DEPARTMENTS: list[Department] = [
    Department(
        uscc=make_uscc(prefix, region, base),
        name=name,
        name_en=name_en,
        short_name=slug,
        roles=roles,
        description=description,
    )
    for prefix, region, base, name, name_en, slug, roles, description in _DEPARTMENT_ROWS
]

_BY_SLUG = {d.short_name: d for d in DEPARTMENTS}


def department(short_name: str) -> Department:
    """The demo department with this short name (e.g. ``police``); KeyError if unknown."""
    return _BY_SLUG[short_name]


def operator() -> Department:
    """The node's operator (上海市大数据中心)."""
    return next(d for d in DEPARTMENTS if "operator" in d.roles)


# ---------------------------------------------------------------------------
# Catalog
# ---------------------------------------------------------------------------

# 信息资源分类: 类 (1 digit) + 项 (2 digits) + 目 (3 digits).
CLASSIFICATIONS: dict[str, str] = {
    "101001": "基础信息资源/人口/户籍与身份",
    "101002": "基础信息资源/人口/婚姻、殡葬与社会救助",
    "101003": "基础信息资源/人口/就业与社会保险",
    "102001": "基础信息资源/法人/市场主体登记",
    "102002": "基础信息资源/法人/社会组织登记",
    "102003": "基础信息资源/法人/税务登记",
    "103001": "基础信息资源/自然资源和空间地理/地名地址与行政区划",
    "103002": "基础信息资源/自然资源和空间地理/不动产与土地",
    "103003": "基础信息资源/自然资源和空间地理/生态环境",
    "103004": "基础信息资源/自然资源和空间地理/交通设施",
    "104001": "基础信息资源/社会信用/行政许可与行政处罚",
    "104002": "基础信息资源/社会信用/司法信用",
    "104003": "基础信息资源/社会信用/公共信用评价",
    "104004": "基础信息资源/社会信用/纳税信用",
    "105001": "基础信息资源/电子证照/市场主体证照",
    "105002": "基础信息资源/电子证照/公安证照",
    "105003": "基础信息资源/电子证照/卫生健康证照",
    "105004": "基础信息资源/电子证照/民政证照",
    "105005": "基础信息资源/电子证照/不动产证照",
    "105006": "基础信息资源/电子证照/司法行政证照",
    "201001": "主题信息资源/医疗健康/健康档案与预防接种",
    "201002": "主题信息资源/医疗健康/医疗机构与医务人员",
    "201003": "主题信息资源/医疗健康/医疗保障",
    "301001": "主题信息资源/教育/学校与学籍",
    "302001": "主题信息资源/住房/住房保障与房地产市场",
    "303001": "部门信息资源/司法行政/社区矫正",
    "304001": "部门信息资源/税务/税收征管",
    "305001": "部门信息资源/交通运输/从业人员",
    "306001": "主题信息资源/城市运行/一网统管",
}

# Codes of the resources that carry generated records (see hutong.demo.records).
POPULATION = "101001-00001"
MARRIAGES = "101002-00001"
ENTERPRISES = "102001-00001"
ADDRESSES = "103001-00001"
PENALTIES = "104001-00001"
BUSINESS_LICENCES = "105001-00001"
VACCINATIONS = "201001-00002"
HOSTED_CODES: tuple[str, ...] = (
    POPULATION,
    MARRIAGES,
    ENTERPRISES,
    ADDRESSES,
    PENALTIES,
    BUSINESS_LICENCES,
    VACCINATIONS,
)

# Legal bases, cited by name (and article where the article is the one that says it).
DATA_REG = "《上海市数据条例》第三章第二节（公共数据共享和开放）"
PIPL_28 = "《中华人民共和国个人信息保护法》第二十八条"
PIPL_34 = "《中华人民共和国个人信息保护法》第三十四条"
PIPL_31 = "《中华人民共和国个人信息保护法》第三十一条"
OGI_15 = "《中华人民共和国政府信息公开条例》第十五条"
ID_LAW_6 = "《中华人民共和国居民身份证法》第六条"
HEALTH_LAW_92 = "《中华人民共和国基本医疗卫生法》第九十二条"
MENTAL_HEALTH_4 = "《中华人民共和国精神卫生法》第四条"
TAX_ADMIN_8 = "《中华人民共和国税收征收管理法》第八条"
CORRECTIONS_LAW = "《中华人民共和国社区矫正法》"
MINORS_72 = "《中华人民共和国未成年人保护法》第七十二条"
SH_OPEN_DATA = "《上海市公共数据开放暂行办法》"
REAL_ESTATE_27 = "《不动产登记暂行条例》第二十七条"

PI_REASON = "含个人信息，共享须限于履行法定职责所必需的范围和限度"
PI_CLOSED = "含个人信息，依法不予开放"
SENSITIVE_CLOSED = "含敏感个人信息，依法不予开放"


def _f(
    name: str,
    label: str,
    type: str = "string",
    *,
    key: bool = False,
    pi: str | None = None,
    length: int | None = None,
    description: str = "",
) -> dict[str, Any]:
    field: dict[str, Any] = {"name": name, "label": label, "type": type}
    if key:
        field["key"] = True
    if pi:
        field["pi_category"] = pi
    if length:
        field["length"] = length
    if description:
        field["description"] = description
    return field


def _unconditional(method: str = "interface") -> dict[str, Any]:
    return {"type": "unconditional", "method": method}


def _conditional(
    condition: str, reason: str = PI_REASON, legal_basis: str = PIPL_34, method: str = "interface"
) -> dict[str, Any]:
    return {
        "type": "conditional",
        "condition": condition,
        "method": method,
        "reason": reason,
        "legal_basis": legal_basis,
    }


def _not_shared(reason: str, legal_basis: str) -> dict[str, Any]:
    return {"type": "none", "method": "interface", "reason": reason, "legal_basis": legal_basis}


_OPEN: dict[str, Any] = {"type": "open"}


def _closed(reason: str = PI_CLOSED, legal_basis: str = OGI_15) -> dict[str, Any]:
    return {"type": "closed", "reason": reason, "legal_basis": legal_basis}


def _open_conditional(
    condition: str, reason: str, legal_basis: str = SH_OPEN_DATA
) -> dict[str, Any]:
    return {
        "type": "conditional",
        "condition": condition,
        "reason": reason,
        "legal_basis": legal_basis,
    }


def _res(
    code: str,
    name: str,
    provider: str,
    base_catalog: str | None,
    abstract: str,
    fields: list[dict[str, Any]],
    sharing: dict[str, Any],
    opening: dict[str, Any],
    *,
    grade: str = "general",
    cycle: str = "daily",
    published: str,
    related: tuple[str, ...] = (),
    keywords: tuple[str, ...] = (),
    hosted: bool = False,
    format: str = "数据库表",
) -> dict[str, Any]:
    classification = code.split("-", 1)[0]
    return {
        "code": code,
        "name": name,
        "classification": classification,
        "classification_name": CLASSIFICATIONS[classification],
        "provider": department(provider).uscc,
        "abstract": abstract,
        "format": format,
        "fields": fields,
        "sharing": sharing,
        "opening": opening,
        "security_grade": grade,
        "update_cycle": cycle,
        "published_on": dt.date.fromisoformat(published),
        "related": list(related),
        "base_catalog": base_catalog,
        "keywords": list(keywords),
        "hosted": hosted,
    }


def _population_resources() -> list[dict[str, Any]]:
    rid = _f("resident_id", "公民身份号码", key=True, pi="resident_id", length=18)
    return [
        _res(
            POPULATION,
            "人口基本信息",
            "police",
            "population",
            "本市实有人口（户籍人口和持居住证人口）的基本身份信息，包括公民身份号码、姓名、性别、"
            "出生日期、民族、联系电话、居住地址和户籍地行政区划，是人口基础库的核心数据。",
            [
                rid,
                _f("name", "姓名", pi="name", length=50),
                _f("sex", "性别", length=1, description="男 / 女，与公民身份号码第17位一致"),
                _f("birth_date", "出生日期", "date"),
                _f("ethnicity", "民族", length=10),
                _f("mobile", "联系电话", pi="mobile", length=11, description="未满14周岁者为空"),
                _f("address", "居住地址", pi="address", length=200),
                _f(
                    "household_district",
                    "户籍地行政区划代码",
                    length=6,
                    description="GB/T 2260 六位代码；外省市户籍为其户籍地代码",
                ),
                _f("updated_at", "更新时间", "datetime"),
            ],
            _conditional(
                "用于户籍核验、社会救助资格审核、就业社保经办等履行法定职责的场景，"
                "经数源单位按场景授权后按需调用，不得批量下载"
            ),
            _closed(SENSITIVE_CLOSED, PIPL_28),
            grade="important",
            cycle="daily",
            published="2022-03-15",
            related=("101001-00002", "101001-00003", "101002-00001", "101002-00002", ADDRESSES),
            keywords=("人口", "户籍", "身份证", "实有人口", "身份核验"),
            hosted=True,
        ),
        _res(
            "101001-00002",
            "户籍迁移登记信息",
            "police",
            "population",
            "户口迁入、迁出、市内迁移登记记录，含迁移类型、迁出地、迁入地和办理日期。",
            [
                _f("record_id", "业务流水号", key=True, length=24),
                rid | {"key": False},
                _f("name", "姓名", pi="name", length=50),
                _f("migration_type", "迁移类型", length=10, description="迁入 / 迁出 / 市内迁移"),
                _f("from_district", "迁出地行政区划代码", length=6),
                _f("to_district", "迁入地行政区划代码", length=6),
                _f("reason", "迁移原因", length=50),
                _f("handled_on", "办理日期", "date"),
                _f("police_station", "办理派出所", length=100),
            ],
            _conditional("用于入学、住房保障、社会保险关系转移等需核实户籍变动的场景"),
            _closed(),
            grade="important",
            cycle="daily",
            published="2022-03-15",
            related=(POPULATION,),
            keywords=("户籍", "迁移", "落户"),
        ),
        _res(
            "101001-00003",
            "居住证信息",
            "police",
            "population",
            "《上海市居住证》办理、签注和积分相关信息，反映来沪人员的居住登记情况。",
            [
                _f("permit_no", "居住证号码", key=True, length=20),
                rid | {"key": False},
                _f("name", "姓名", pi="name", length=50),
                _f("residence_address", "居住地址", pi="address", length=200),
                _f("issued_on", "签发日期", "date"),
                _f("valid_until", "有效期截止日期", "date"),
                _f("permit_status", "证件状态", length=10),
            ],
            _conditional("用于来沪人员子女入学、公共服务资格核验等场景"),
            _closed(),
            grade="important",
            cycle="daily",
            published="2022-06-20",
            related=(POPULATION, "301001-00001"),
            keywords=("居住证", "来沪人员", "积分"),
        ),
        _res(
            "101001-00004",
            "居民身份信息核验",
            "police",
            "population",
            "以公民身份号码和姓名为条件，返回是否一致的核验结果，不返回身份信息本身，"
            "适用于“一网通办”实名核验。",
            [
                rid,
                _f("name", "姓名", pi="name", length=50),
                _f("match_result", "核验结果", length=10, description="一致 / 不一致 / 无此号码"),
                _f("checked_at", "核验时间", "datetime"),
            ],
            _unconditional(),
            _closed(PI_CLOSED, ID_LAW_6),
            grade="important",
            cycle="realtime",
            published="2022-03-15",
            related=(POPULATION,),
            keywords=("身份核验", "实名认证", "一网通办"),
            format="接口服务",
        ),
        _res(
            MARRIAGES,
            "婚姻登记信息",
            "civil_affairs",
            "population",
            "本市婚姻登记机关办理的结婚登记、离婚登记记录，含双方公民身份号码、姓名、"
            "登记日期和登记机关。",
            [
                _f(
                    "registration_no",
                    "证件字号",
                    key=True,
                    length=20,
                    description="J（结婚）/ L（离婚）+ 登记机关区划代码 + 年份 + 序号",
                ),
                _f("registration_type", "登记类型", length=10),
                _f("male_resident_id", "男方公民身份号码", pi="resident_id", length=18),
                _f("male_name", "男方姓名", pi="name", length=50),
                _f("female_resident_id", "女方公民身份号码", pi="resident_id", length=18),
                _f("female_name", "女方姓名", pi="name", length=50),
                _f("registered_on", "登记日期", "date"),
                _f("registration_authority", "登记机关", length=100),
            ],
            _conditional("用于住房保障、公积金提取、户籍办理等需核实婚姻状况的场景"),
            _closed(),
            grade="important",
            cycle="daily",
            published="2022-05-10",
            related=(POPULATION, "105004-00001"),
            keywords=("婚姻", "结婚登记", "离婚登记"),
            hosted=True,
        ),
        _res(
            "101002-00002",
            "死亡登记信息",
            "civil_affairs",
            "population",
            "根据死亡医学证明和火化记录形成的死亡登记信息，用于户口注销、停发待遇等业务协同。",
            [
                _f("record_id", "登记编号", key=True, length=24),
                rid | {"key": False},
                _f("name", "姓名", pi="name", length=50),
                _f("death_date", "死亡日期", "date"),
                _f("cremated_on", "火化日期", "date"),
                _f("funeral_home", "殡仪馆", length=100),
            ],
            _conditional("用于户口注销、社会保险待遇停发、优抚救助停发等场景"),
            _closed(),
            grade="important",
            cycle="daily",
            published="2022-08-01",
            related=(POPULATION, "101003-00001"),
            keywords=("死亡", "火化", "殡葬"),
        ),
        _res(
            "101002-00003",
            "最低生活保障对象信息",
            "civil_affairs",
            "population",
            "城乡最低生活保障对象及其家庭的认定、保障金额和复核信息。",
            [
                _f("family_id", "保障家庭编号", key=True, length=20),
                rid | {"key": False},
                _f("name", "申请人姓名", pi="name", length=50),
                _f("family_size", "保障人数", "integer"),
                _f("monthly_allowance", "月保障金额（元）", "decimal"),
                _f("approved_on", "认定日期", "date"),
                _f("district", "所在区", length=20),
            ],
            _conditional(
                "仅用于社会救助、费用减免等与低保对象认定直接相关的场景",
                reason="含特定身份敏感个人信息",
                legal_basis=PIPL_28,
            ),
            _closed(SENSITIVE_CLOSED, PIPL_28),
            grade="important",
            cycle="monthly",
            published="2023-02-14",
            related=(POPULATION,),
            keywords=("低保", "社会救助", "困难家庭"),
        ),
        _res(
            "101003-00001",
            "社会保险参保信息",
            "hrss",
            "population",
            "职工和城乡居民养老保险、失业保险、工伤保险的参保登记和缴费状态。",
            [
                rid,
                _f("name", "姓名", pi="name", length=50),
                _f("insurance_type", "险种", length=20),
                _f("employer_uscc", "参保单位统一社会信用代码", length=18),
                _f("employer_name", "参保单位名称", length=200),
                _f("insured_since", "参保日期", "date"),
                _f("contribution_status", "缴费状态", length=10),
                _f("last_paid_month", "最近缴费年月", length=6),
            ],
            _conditional("用于就业补贴、人才引进、积分落户等需核实参保状态的场景"),
            _closed(),
            grade="important",
            cycle="monthly",
            published="2022-04-18",
            related=(POPULATION, ENTERPRISES, "101003-00002"),
            keywords=("社保", "养老保险", "参保"),
        ),
        _res(
            "101003-00002",
            "就业登记信息",
            "hrss",
            "population",
            "劳动者就业登记、失业登记及用人单位招用备案信息。",
            [
                _f("record_id", "登记编号", key=True, length=24),
                rid | {"key": False},
                _f("name", "姓名", pi="name", length=50),
                _f("employer_uscc", "用人单位统一社会信用代码", length=18),
                _f("employment_status", "就业状态", length=10),
                _f("registered_on", "登记日期", "date"),
            ],
            _conditional("用于就业困难人员认定、补贴发放等场景"),
            _closed(),
            grade="general",
            cycle="daily",
            published="2023-05-06",
            related=("101003-00001", ENTERPRISES),
            keywords=("就业", "失业登记"),
        ),
    ]


def _legal_person_resources() -> list[dict[str, Any]]:
    uscc = _f("uscc", "统一社会信用代码", key=True, length=18)
    return [
        _res(
            ENTERPRISES,
            "企业登记注册信息",
            "market",
            "legal_person",
            "本市登记的企业（公司、非公司企业法人、合伙企业、个人独资企业）的设立和变更登记信息，"
            "是法人基础库的核心数据。",
            [
                uscc,
                _f("name", "企业名称", length=200),
                _f("enterprise_type", "企业类型", length=50),
                _f("legal_representative", "法定代表人（负责人）", pi="name", length=50),
                _f("registered_capital", "注册资本（万元人民币）", "decimal"),
                _f("established_on", "成立日期", "date"),
                _f("district", "登记所在区", length=20),
                _f("registered_address", "住所", length=200),
                _f("industry", "行业门类", length=50),
                _f("registration_authority", "登记机关", length=100),
                _f("status", "登记状态", length=10),
            ],
            _unconditional("both"),
            _closed(
                "含法定代表人个人信息；不含个人信息的公示字段另以“企业登记公示信息”开放",
                OGI_15,
            ),
            grade="general",
            cycle="daily",
            published="2022-03-01",
            related=("102001-00002", BUSINESS_LICENCES, PENALTIES, "102003-00001"),
            keywords=("企业", "法人", "工商登记", "市场主体"),
            hosted=True,
        ),
        _res(
            "102001-00002",
            "企业登记公示信息",
            "market",
            "legal_person",
            "依法向社会公示的企业登记事项：名称、统一社会信用代码、类型、成立日期、登记机关和状态，"
            "不含个人信息。",
            [
                uscc,
                _f("name", "企业名称", length=200),
                _f("enterprise_type", "企业类型", length=50),
                _f("established_on", "成立日期", "date"),
                _f("registration_authority", "登记机关", length=100),
                _f("status", "登记状态", length=10),
            ],
            _unconditional("both"),
            _OPEN,
            cycle="daily",
            published="2022-09-01",
            related=(ENTERPRISES,),
            keywords=("企业公示", "开放数据"),
        ),
        _res(
            "102001-00003",
            "企业年度报告公示信息",
            "market",
            "legal_person",
            "企业通过企业信用信息公示系统报送并公示的年度报告：从业人数区间、资产状况公示选择、"
            "网站网店和对外投资。",
            [
                _f("report_id", "年报编号", key=True, length=24),
                _f("uscc", "统一社会信用代码", length=18),
                _f("report_year", "年报年度", "integer"),
                _f("employee_band", "从业人数区间", length=20),
                _f("has_website", "是否有网站网店", "boolean"),
                _f("submitted_on", "报送日期", "date"),
            ],
            _unconditional("bulk"),
            _OPEN,
            cycle="yearly",
            published="2023-07-01",
            related=(ENTERPRISES,),
            keywords=("年报", "企业公示"),
        ),
        _res(
            "102001-00004",
            "个体工商户登记信息",
            "market",
            "legal_person",
            "个体工商户的设立、变更和注销登记信息，经营者为自然人。",
            [
                uscc,
                _f("trade_name", "字号名称", length=200),
                _f("operator_name", "经营者姓名", pi="name", length=50),
                _f("operator_resident_id", "经营者公民身份号码", pi="resident_id", length=18),
                _f("business_place", "经营场所", pi="address", length=200),
                _f("established_on", "成立日期", "date"),
                _f("status", "登记状态", length=10),
            ],
            _conditional("用于个体工商户扶持政策、税务登记等场景"),
            _closed(),
            cycle="daily",
            published="2022-11-11",
            related=(ENTERPRISES, POPULATION),
            keywords=("个体户", "市场主体"),
        ),
        _res(
            "102002-00001",
            "社会组织登记信息",
            "civil_affairs",
            "legal_person",
            "社会团体、民办非企业单位（社会服务机构）和基金会的登记信息。",
            [
                uscc,
                _f("name", "社会组织名称", length=200),
                _f("org_type", "组织类型", length=20),
                _f("business_scope", "业务范围", length=500),
                _f("supervisor", "业务主管单位", length=100),
                _f("registered_on", "成立登记日期", "date"),
                _f("status", "登记状态", length=10),
            ],
            _unconditional(),
            _OPEN,
            cycle="weekly",
            published="2022-07-19",
            related=(ENTERPRISES,),
            keywords=("社会组织", "基金会", "社会团体"),
        ),
        _res(
            "102003-00001",
            "纳税人登记信息",
            "tax",
            "legal_person",
            "单位纳税人的税务登记（信息确认）状态、纳税人资格和主管税务机关。",
            [
                _f("taxpayer_id", "纳税人识别号", key=True, length=18),
                _f("name", "纳税人名称", length=200),
                _f(
                    "taxpayer_type",
                    "纳税人资格",
                    length=20,
                    description="一般纳税人 / 小规模纳税人",
                ),
                _f("tax_authority", "主管税务机关", length=100),
                _f("registered_on", "登记日期", "date"),
                _f("status", "纳税人状态", length=10),
            ],
            _conditional(
                "用于政府采购、财政补贴资格审核等场景",
                reason="涉及纳税人经营信息",
                legal_basis=TAX_ADMIN_8,
            ),
            _open_conditional("纳税人名称与资格可经申请查询", "涉及纳税人商业秘密", TAX_ADMIN_8),
            cycle="daily",
            published="2023-01-09",
            related=(ENTERPRISES, "104004-00001"),
            keywords=("税务登记", "一般纳税人"),
        ),
    ]


def _geography_resources() -> list[dict[str, Any]]:
    return [
        _res(
            ADDRESSES,
            "门牌地址信息",
            "planning",
            "geography",
            "本市标准地址库中的门牌地址（门弄号），含所在区、街道（镇）、道路、弄号、门牌号和坐标，"
            "不含任何个人信息。",
            [
                _f("address_code", "标准地址编码", key=True, length=16),
                _f("district_code", "区行政区划代码", length=6),
                _f("district", "区", length=20),
                _f("street", "街道（镇）", length=50),
                _f("road", "道路", length=50),
                _f("lane", "弄号", length=10, description="无弄号的门牌为空"),
                _f("house_number", "门牌号", length=10),
                _f("full_address", "标准地址", length=200),
                _f("longitude", "经度", "decimal", description="CGCS2000"),
                _f("latitude", "纬度", "decimal", description="CGCS2000"),
            ],
            _unconditional("both"),
            _OPEN,
            cycle="monthly",
            published="2022-04-01",
            related=("103001-00002", "103001-00003"),
            keywords=("地址", "门牌", "标准地址", "空间地理"),
            hosted=True,
        ),
        _res(
            "103001-00002",
            "行政区划信息",
            "civil_affairs",
            "geography",
            "本市区、街道、镇、乡行政区划代码、名称和上级区划，按 GB/T 2260 和统计用区划代码维护。",
            [
                _f("division_code", "行政区划代码", key=True, length=12),
                _f("division_name", "行政区划名称", length=50),
                _f("level", "层级", length=10),
                _f("parent_code", "上级区划代码", length=12),
                _f("valid_from", "启用日期", "date"),
            ],
            _unconditional("bulk"),
            _OPEN,
            cycle="yearly",
            published="2022-01-20",
            related=(ADDRESSES,),
            keywords=("行政区划", "区划代码"),
        ),
        _res(
            "103001-00003",
            "地名信息",
            "civil_affairs",
            "geography",
            "经依法命名、更名的道路、桥梁、住宅区和公共设施地名及其含义、批准文号。",
            [
                _f("place_id", "地名编码", key=True, length=20),
                _f("place_name", "标准名称", length=100),
                _f("category", "地名类别", length=20),
                _f("district", "所在区", length=20),
                _f("meaning", "含义", length=500),
                _f("approved_on", "批准日期", "date"),
            ],
            _unconditional("bulk"),
            _OPEN,
            cycle="quarterly",
            published="2023-03-28",
            related=(ADDRESSES, "103001-00002"),
            keywords=("地名", "道路名称"),
        ),
        _res(
            "103002-00001",
            "不动产登记信息",
            "planning",
            "geography",
            "国有建设用地使用权及房屋所有权的首次、转移、变更、抵押登记信息，含权利人。",
            [
                _f("certificate_no", "不动产权证书号", key=True, length=40),
                _f("unit_no", "不动产单元号", length=28),
                _f("owner_name", "权利人", pi="name", length=100),
                _f("owner_id", "权利人证件号码", pi="resident_id", length=18),
                _f("location", "坐落", pi="address", length=200),
                _f("usage", "用途", length=20),
                _f("area", "建筑面积（平方米）", "decimal"),
                _f("registered_on", "登记日期", "date"),
                _f("mortgaged", "是否抵押", "boolean"),
            ],
            _conditional(
                "用于住房保障审核、司法查控、税费征收等法定职责场景，按户查询",
                reason="含权利人个人信息和财产信息",
                legal_basis=REAL_ESTATE_27,
            ),
            _closed(SENSITIVE_CLOSED, PIPL_28),
            grade="important",
            cycle="daily",
            published="2022-06-30",
            related=(POPULATION, "105005-00001", ADDRESSES),
            keywords=("不动产", "房产", "产权"),
        ),
        _res(
            "103002-00002",
            "国有建设用地供应信息",
            "planning",
            "geography",
            "国有建设用地出让、划拨结果公示：地块编号、坐落、用途、面积、成交价和受让单位。",
            [
                _f("parcel_no", "地块编号", key=True, length=30),
                _f("location", "地块坐落", length=200),
                _f("land_use", "土地用途", length=30),
                _f("area", "出让面积（平方米）", "decimal"),
                _f("price", "成交价（万元）", "decimal"),
                _f("grantee", "受让单位", length=200),
                _f("contract_on", "合同签订日期", "date"),
            ],
            _unconditional("bulk"),
            _OPEN,
            cycle="monthly",
            published="2023-08-15",
            related=("103002-00001",),
            keywords=("土地出让", "供地"),
        ),
        _res(
            "103003-00001",
            "环境空气质量监测数据",
            "ecology",
            "geography",
            "全市国控、市控空气自动监测站的小时监测值（PM2.5、PM10、O3、NO2、SO2、CO）和空气质量指数。",
            [
                _f("record_id", "记录编号", key=True, length=24),
                _f("station", "监测站点", length=50),
                _f("observed_at", "监测时间", "datetime"),
                _f("pm25", "PM2.5（μg/m³）", "decimal"),
                _f("pm10", "PM10（μg/m³）", "decimal"),
                _f("o3", "O3（μg/m³）", "decimal"),
                _f("aqi", "空气质量指数", "integer"),
                _f("primary_pollutant", "首要污染物", length=20),
            ],
            _unconditional("both"),
            _OPEN,
            cycle="realtime",
            published="2022-02-22",
            related=("103003-00002",),
            keywords=("空气质量", "AQI", "环境监测"),
        ),
        _res(
            "103003-00002",
            "排污许可信息",
            "ecology",
            "geography",
            "排污单位的排污许可证核发、变更和注销信息，含许可排放污染物种类。",
            [
                _f("permit_no", "许可证编号", key=True, length=30),
                _f("uscc", "排污单位统一社会信用代码", length=18),
                _f("unit_name", "排污单位名称", length=200),
                _f("industry", "行业类别", length=50),
                _f("pollutants", "许可排放污染物", length=200),
                _f("valid_from", "有效期起", "date"),
                _f("valid_until", "有效期止", "date"),
            ],
            _unconditional(),
            _OPEN,
            cycle="weekly",
            published="2023-04-12",
            related=(ENTERPRISES, "104001-00002"),
            keywords=("排污许可", "生态环境"),
        ),
        _res(
            "103004-00001",
            "公共交通站点信息",
            "transport",
            "geography",
            "公交线路站点和轨道交通车站的名称、坐标和途经线路。",
            [
                _f("stop_id", "站点编号", key=True, length=20),
                _f("stop_name", "站点名称", length=50),
                _f("stop_type", "站点类型", length=10, description="公交 / 轨道交通"),
                _f("routes", "途经线路", length=500),
                _f("longitude", "经度", "decimal"),
                _f("latitude", "纬度", "decimal"),
            ],
            _unconditional("bulk"),
            _OPEN,
            cycle="monthly",
            published="2022-10-10",
            related=(ADDRESSES,),
            keywords=("公交", "地铁", "站点"),
        ),
    ]


def _credit_resources() -> list[dict[str, Any]]:
    return [
        _res(
            PENALTIES,
            "行政处罚信息",
            "market",
            "social_credit",
            "市、区市场监督管理部门作出的行政处罚决定（“双公示”），含当事人、违法行为类型、"
            "处罚依据、处罚内容和公示截止日期。",
            [
                _f("decision_no", "行政处罚决定书文号", key=True, length=50),
                _f("party_name", "当事人名称", length=200),
                _f("party_uscc", "当事人统一社会信用代码", length=18),
                _f("violation_type", "违法行为类型", length=100),
                _f("legal_basis", "处罚依据", length=200),
                _f("penalty_type", "处罚类别", length=50),
                _f("fine_amount", "罚款金额（元）", "decimal", description="仅警告时为空"),
                _f("decided_on", "处罚决定日期", "date"),
                _f("authority", "处罚机关", length=100),
                _f("publicity_until", "公示截止日期", "date"),
            ],
            _unconditional("both"),
            _OPEN,
            cycle="daily",
            published="2022-05-20",
            related=(ENTERPRISES, "104003-00001", "104003-00002"),
            keywords=("行政处罚", "双公示", "信用"),
            hosted=True,
        ),
        _res(
            "104001-00002",
            "行政许可信息",
            "market",
            "social_credit",
            "行政许可决定“双公示”信息：许可文书号、许可类别、许可内容、有效期和许可机关。",
            [
                _f("licence_doc_no", "行政许可决定文书号", key=True, length=50),
                _f("party_name", "行政相对人名称", length=200),
                _f("party_uscc", "行政相对人统一社会信用代码", length=18),
                _f("licence_type", "许可类别", length=20),
                _f("content", "许可内容", length=500),
                _f("decided_on", "许可决定日期", "date"),
                _f("valid_until", "有效期至", "date"),
                _f("authority", "许可机关", length=100),
            ],
            _unconditional("both"),
            _OPEN,
            cycle="daily",
            published="2022-05-20",
            related=(ENTERPRISES, PENALTIES),
            keywords=("行政许可", "双公示"),
        ),
        _res(
            "104002-00001",
            "失信被执行人信息",
            "court",
            "social_credit",
            "人民法院依法纳入失信被执行人名单的自然人和单位，含执行案号、生效法律文书确定的义务"
            "和失信情形，用于联合惩戒。",
            [
                _f("case_no", "执行案号", key=True, length=50),
                _f("party_name", "被执行人姓名/名称", pi="name", length=200),
                _f("party_id", "身份证号码/统一社会信用代码", pi="resident_id", length=18),
                _f("court", "执行法院", length=100),
                _f("obligation", "生效法律文书确定的义务", length=1000),
                _f("dishonest_behaviour", "失信被执行人行为具体情形", length=200),
                _f("published_on", "发布日期", "date"),
            ],
            _unconditional(),
            _closed(
                "含自然人被执行人个人信息，社会公众经“中国执行信息公开网”按案查询",
                "《最高人民法院关于公布失信被执行人名单信息的若干规定》",
            ),
            grade="important",
            cycle="daily",
            published="2022-07-08",
            related=(POPULATION, ENTERPRISES, "104003-00002"),
            keywords=("失信被执行人", "联合惩戒", "老赖"),
        ),
        _res(
            "104003-00001",
            "公共信用评价结果",
            "ndrc",
            "social_credit",
            "依据本市公共信用信息对市场主体开展的综合信用评价结果及等级（A、B、C、D）。",
            [
                _f("uscc", "统一社会信用代码", key=True, length=18),
                _f("name", "主体名称", length=200),
                _f("credit_grade", "信用等级", length=2),
                _f("score", "评价得分", "integer"),
                _f("evaluated_on", "评价日期", "date"),
            ],
            _conditional(
                "用于分级分类监管、行政审批告知承诺和评优评先等场景",
                reason="评价结果仅供监管和行政管理使用",
                legal_basis=f"《上海市社会信用条例》；{DATA_REG}",
            ),
            _open_conditional(
                "主体可查询本主体评价结果",
                "评价结果仅供监管和行政管理使用",
                "《上海市社会信用条例》",
            ),
            cycle="monthly",
            published="2023-06-30",
            related=(PENALTIES, "104002-00001", "104004-00001"),
            keywords=("信用评价", "分级分类监管"),
        ),
        _res(
            "104003-00002",
            "严重失信主体名单",
            "ndrc",
            "social_credit",
            "依法依规认定的严重失信主体名单（法人和非法人组织），含列入事由、认定部门和移出日期。",
            [
                _f("uscc", "统一社会信用代码", key=True, length=18),
                _f("name", "主体名称", length=200),
                _f("reason", "列入事由", length=500),
                _f("authority", "认定部门", length=100),
                _f("listed_on", "列入日期", "date"),
                _f("removal_due", "届满移出日期", "date"),
            ],
            _unconditional(),
            _OPEN,
            cycle="daily",
            published="2023-06-30",
            related=(PENALTIES, "104002-00001"),
            keywords=("失信名单", "联合惩戒"),
        ),
        _res(
            "104004-00001",
            "纳税信用等级评价信息",
            "tax",
            "social_credit",
            "税务机关年度纳税信用评价结果（A、B、M、C、D级）。",
            [
                _f("taxpayer_id", "纳税人识别号", key=True, length=18),
                _f("name", "纳税人名称", length=200),
                _f("year", "评价年度", "integer"),
                _f("credit_level", "纳税信用级别", length=2),
            ],
            _unconditional(),
            _open_conditional(
                "A级纳税人名单向社会公开，其他级别由纳税人自行查询",
                "涉及纳税人信息保密",
                TAX_ADMIN_8,
            ),
            cycle="yearly",
            published="2023-04-20",
            related=("102003-00001", "104003-00001"),
            keywords=("纳税信用", "A级纳税人"),
        ),
    ]


def _licence_resources() -> list[dict[str, Any]]:
    holder_id = _f("holder_id", "持证人公民身份号码", pi="resident_id", length=18)
    holder = _f("holder_name", "持证人姓名", pi="name", length=50)
    return [
        _res(
            BUSINESS_LICENCES,
            "营业执照电子证照",
            "market",
            "e_licence",
            "依据企业登记信息签发的营业执照电子证照，与纸质营业执照具有同等法律效力，"
            "用于“一网通办”免交纸质材料。",
            [
                _f("licence_no", "电子证照编号", key=True, length=20),
                _f("uscc", "统一社会信用代码", length=18),
                _f("name", "名称", length=200),
                _f("enterprise_type", "类型", length=50),
                _f("legal_representative", "法定代表人", pi="name", length=50),
                _f("registered_capital", "注册资本（万元人民币）", "decimal"),
                _f("established_on", "成立日期", "date"),
                _f("business_term_until", "营业期限至", "date", description="长期为空"),
                _f("registered_address", "住所", length=200),
                _f("issuing_authority", "登记机关", length=100),
                _f("issued_on", "发照日期", "date"),
                _f("licence_status", "证照状态", length=10),
            ],
            _unconditional(),
            _closed(PI_CLOSED, OGI_15),
            cycle="realtime",
            published="2022-03-01",
            format="电子证照（OFD）",
            related=(ENTERPRISES, PENALTIES),
            keywords=("营业执照", "电子证照", "一网通办"),
            hosted=True,
        ),
        _res(
            "105001-00002",
            "食品经营许可证电子证照",
            "market",
            "e_licence",
            "食品经营许可证电子证照，含经营者、经营场所、主体业态和经营项目。",
            [
                _f("licence_no", "许可证编号", key=True, length=20),
                _f("uscc", "社会信用代码", length=18),
                _f("operator_name", "经营者名称", length=200),
                _f("business_place", "经营场所", length=200),
                _f("business_form", "主体业态", length=50),
                _f("valid_until", "有效期至", "date"),
            ],
            _unconditional(),
            _OPEN,
            cycle="daily",
            published="2022-12-05",
            format="电子证照（OFD）",
            related=(BUSINESS_LICENCES,),
            keywords=("食品经营许可", "电子证照"),
        ),
        _res(
            "105002-00001",
            "机动车驾驶证电子证照",
            "police",
            "e_licence",
            "机动车驾驶证电子证照，含准驾车型、有效期和记分状态。",
            [
                _f("licence_no", "驾驶证号", key=True, pi="resident_id", length=18),
                holder,
                _f("vehicle_class", "准驾车型", length=10),
                _f("first_issued_on", "初次领证日期", "date"),
                _f("valid_until", "有效期至", "date"),
                _f("licence_status", "状态", length=10),
            ],
            _conditional("用于网约车、出租车从业资格审核和交通违法处理等场景"),
            _closed(),
            grade="important",
            cycle="realtime",
            published="2022-09-15",
            format="电子证照（OFD）",
            related=(POPULATION, "305001-00001"),
            keywords=("驾驶证", "电子证照"),
        ),
        _res(
            "105002-00002",
            "机动车行驶证电子证照",
            "police",
            "e_licence",
            "机动车行驶证电子证照，含号牌号码、车辆类型、所有人和检验有效期。",
            [
                _f("plate_no", "号牌号码", key=True, pi="plate", length=10),
                _f("owner_name", "所有人", pi="name", length=100),
                _f("vehicle_type", "车辆类型", length=20),
                _f("registered_on", "注册日期", "date"),
                _f("inspection_due", "检验有效期至", "date"),
            ],
            _conditional("用于非机动车和机动车管理、停车收费等履行职责场景"),
            _closed(),
            grade="important",
            cycle="realtime",
            published="2023-03-01",
            format="电子证照（OFD）",
            related=("105002-00001",),
            keywords=("行驶证", "车辆", "电子证照"),
        ),
        _res(
            "105003-00001",
            "医师执业证书电子证照",
            "health",
            "e_licence",
            "医师执业证书电子证照，含执业类别、执业范围和主要执业机构。",
            [
                _f("certificate_no", "证书编码", key=True, length=30),
                holder,
                holder_id,
                _f("practice_category", "执业类别", length=20),
                _f("practice_scope", "执业范围", length=50),
                _f("institution", "主要执业机构", length=200),
                _f("issued_on", "发证日期", "date"),
            ],
            _conditional("用于医疗机构监管、医保定点医师管理等场景"),
            _closed(),
            cycle="daily",
            published="2023-02-01",
            format="电子证照（OFD）",
            related=("201002-00002", "201002-00001"),
            keywords=("医师", "执业证书", "电子证照"),
        ),
        _res(
            "105003-00002",
            "出生医学证明电子证照",
            "health",
            "e_licence",
            "助产机构签发的出生医学证明电子证照，用于新生儿户口登记、医保参保等“出生一件事”。",
            [
                _f("certificate_no", "出生医学证明编号", key=True, length=20),
                _f("newborn_name", "新生儿姓名", pi="name", length=50),
                _f("newborn_sex", "性别", length=1),
                _f("born_at", "出生时间", "datetime"),
                _f("mother_name", "母亲姓名", pi="name", length=50),
                _f("mother_id", "母亲身份证件号码", pi="resident_id", length=18),
                _f("father_name", "父亲姓名", pi="name", length=50),
                _f("father_id", "父亲身份证件号码", pi="resident_id", length=18),
                _f("birthplace_institution", "接生机构", length=200),
            ],
            _conditional(
                "用于新生儿落户、参保和预防接种建档等“出生一件事”场景",
                reason="含未满十四周岁未成年人个人信息",
                legal_basis=PIPL_31,
            ),
            _closed(SENSITIVE_CLOSED, MINORS_72),
            grade="important",
            cycle="realtime",
            published="2022-08-18",
            format="电子证照（OFD）",
            related=(POPULATION, VACCINATIONS),
            keywords=("出生医学证明", "出生一件事"),
        ),
        _res(
            "105004-00001",
            "结婚证电子证照",
            "civil_affairs",
            "e_licence",
            "结婚证电子证照，由婚姻登记信息生成。",
            [
                _f("certificate_no", "结婚证字号", key=True, length=20),
                _f("male_name", "男方姓名", pi="name", length=50),
                _f("male_resident_id", "男方身份证件号码", pi="resident_id", length=18),
                _f("female_name", "女方姓名", pi="name", length=50),
                _f("female_resident_id", "女方身份证件号码", pi="resident_id", length=18),
                _f("registered_on", "登记日期", "date"),
            ],
            _conditional("用于住房、公积金、户籍等业务中免交纸质结婚证"),
            _closed(),
            cycle="realtime",
            published="2023-01-16",
            format="电子证照（OFD）",
            related=(MARRIAGES,),
            keywords=("结婚证", "电子证照"),
        ),
        _res(
            "105005-00001",
            "不动产权证书电子证照",
            "planning",
            "e_licence",
            "不动产权证书和不动产登记证明电子证照。",
            [
                _f("certificate_no", "不动产权证书号", key=True, length=40),
                _f("owner_name", "权利人", pi="name", length=100),
                _f("owner_id", "权利人证件号码", pi="resident_id", length=18),
                _f("location", "坐落", pi="address", length=200),
                _f("issued_on", "登簿日期", "date"),
            ],
            _conditional(
                "用于住房保障、入学、户籍等需核验产权的场景",
                reason="含权利人个人信息和财产信息",
                legal_basis=REAL_ESTATE_27,
            ),
            _closed(),
            grade="important",
            cycle="realtime",
            published="2022-10-28",
            format="电子证照（OFD）",
            related=("103002-00001",),
            keywords=("不动产权证书", "房产证", "电子证照"),
        ),
        _res(
            "105006-00001",
            "律师执业证电子证照",
            "justice",
            "e_licence",
            "律师执业证电子证照，含执业机构、执业证类别和年度考核状态。",
            [
                _f("certificate_no", "执业证号", key=True, length=17),
                holder,
                _f("law_firm", "执业机构", length=200),
                _f("practice_type", "执业类别", length=20),
                _f("issued_on", "发证日期", "date"),
            ],
            _unconditional(),
            _closed(PI_CLOSED, OGI_15),
            cycle="daily",
            published="2023-09-05",
            format="电子证照（OFD）",
            related=("105003-00001",),
            keywords=("律师", "执业证", "电子证照"),
        ),
    ]


def _health_resources() -> list[dict[str, Any]]:
    rid = _f("resident_id", "公民身份号码", key=True, pi="resident_id", length=18)
    return [
        _res(
            "201001-00001",
            "居民电子健康档案摘要",
            "health",
            "health",
            "居民电子健康档案的摘要：血型、过敏史、慢性病管理标识、家庭医生签约和最近一次就诊。",
            [
                rid,
                _f("name", "姓名", pi="name", length=50),
                _f("blood_type", "血型", length=5),
                _f("allergies", "过敏史", length=200),
                _f("chronic_conditions", "慢性病管理标识", length=100),
                _f("family_doctor_org", "家庭医生签约机构", length=200),
                _f("last_visit_on", "最近就诊日期", "date"),
            ],
            _conditional(
                "仅用于医疗救治、公共卫生管理和本人授权的场景",
                reason="含医疗健康敏感个人信息",
                legal_basis=HEALTH_LAW_92,
            ),
            _closed(SENSITIVE_CLOSED, PIPL_28),
            grade="important",
            cycle="daily",
            published="2023-05-12",
            related=(POPULATION, VACCINATIONS, "201003-00001"),
            keywords=("健康档案", "家庭医生", "慢性病"),
        ),
        _res(
            VACCINATIONS,
            "疫苗接种记录",
            "health",
            "health",
            "预防接种单位登记的疫苗接种记录，含免疫规划疫苗、非免疫规划疫苗和新冠病毒疫苗的"
            "品种、生产企业、批号、剂次和接种日期。",
            [
                _f("record_id", "接种记录编号", key=True, length=20),
                _f("resident_id", "受种者公民身份号码", pi="resident_id", length=18),
                _f("name", "受种者姓名", pi="name", length=50),
                _f("vaccine_name", "疫苗名称", length=100),
                _f("manufacturer", "生产企业", length=100),
                _f("batch_no", "疫苗批号", length=20),
                _f("dose_no", "剂次", "integer"),
                _f("vaccinated_on", "接种日期", "date"),
                _f("vaccination_site", "接种单位", length=100),
            ],
            _conditional(
                "用于入托入学查验接种证、出入境和公共卫生应急处置等场景",
                reason="含医疗健康敏感个人信息",
                legal_basis=PIPL_28,
            ),
            _closed(SENSITIVE_CLOSED, PIPL_28),
            grade="important",
            cycle="daily",
            published="2022-04-28",
            related=(POPULATION, "201001-00001", "105003-00002"),
            keywords=("疫苗", "预防接种", "新冠疫苗"),
            hosted=True,
        ),
        _res(
            "201001-00003",
            "严重精神障碍患者管理信息",
            "health",
            "health",
            "社区登记在册严重精神障碍患者的随访、危险性评估和服药管理信息。",
            [
                rid,
                _f("name", "姓名", pi="name", length=50),
                _f("diagnosis", "诊断", length=100),
                _f("risk_level", "危险性评估等级", "integer"),
                _f("last_followup_on", "最近随访日期", "date"),
                _f("managing_org", "管理机构", length=200),
            ],
            _not_shared(
                "患者姓名、病历资料等可能推断身份的信息依法予以保密，不予共享；"
                "确需协同的由卫生健康部门按个案处理",
                MENTAL_HEALTH_4,
            ),
            _closed(SENSITIVE_CLOSED, MENTAL_HEALTH_4),
            grade="important",
            cycle="monthly",
            published="2023-11-02",
            related=("201001-00001",),
            keywords=("精神卫生", "社区随访"),
        ),
        _res(
            "201002-00001",
            "医疗机构执业登记信息",
            "health",
            "health",
            "医疗机构名称、类别、等级、诊疗科目、地址和执业许可证有效期。",
            [
                _f("licence_no", "登记号", key=True, length=30),
                _f("institution_name", "机构名称", length=200),
                _f("category", "机构类别", length=50),
                _f("grade", "医院等级", length=10),
                _f("departments", "诊疗科目", length=1000),
                _f("address", "地址", length=200),
                _f("valid_until", "有效期至", "date"),
            ],
            _unconditional("bulk"),
            _OPEN,
            cycle="weekly",
            published="2022-06-06",
            related=("201002-00002", "201003-00002"),
            keywords=("医院", "医疗机构"),
        ),
        _res(
            "201002-00002",
            "医师执业注册信息",
            "health",
            "health",
            "医师执业注册、变更和多机构备案信息。",
            [
                _f("certificate_no", "医师执业证书编码", key=True, length=30),
                _f("name", "姓名", pi="name", length=50),
                _f("resident_id", "公民身份号码", pi="resident_id", length=18),
                _f("practice_category", "执业类别", length=20),
                _f("institution", "执业机构", length=200),
                _f("registered_on", "注册日期", "date"),
            ],
            _conditional("用于医疗机构监管、医保医师管理等场景"),
            _closed(),
            cycle="daily",
            published="2022-06-06",
            related=("105003-00001", "201002-00001"),
            keywords=("医师", "执业注册"),
        ),
        _res(
            "201003-00001",
            "基本医疗保险参保信息",
            "medical_security",
            "health",
            "职工医保和城乡居民医保参保登记、缴费状态和医保账户状态。",
            [
                rid,
                _f("name", "姓名", pi="name", length=50),
                _f("scheme", "险种", length=20),
                _f("insured_since", "参保日期", "date"),
                _f("status", "参保状态", length=10),
            ],
            _conditional("用于医疗救助、长期护理保险和参保扩面等场景"),
            _closed(),
            grade="important",
            cycle="monthly",
            published="2022-09-09",
            related=(POPULATION, "201003-00003", "101003-00001"),
            keywords=("医保", "参保", "医疗保障"),
        ),
        _res(
            "201003-00002",
            "定点医药机构信息",
            "medical_security",
            "health",
            "医保定点医疗机构和定点零售药店的名称、类别、地址和协议有效期。",
            [
                _f("org_code", "医保机构编码", key=True, length=12),
                _f("name", "机构名称", length=200),
                _f("category", "类别", length=20),
                _f("address", "地址", length=200),
                _f("agreement_until", "协议有效期至", "date"),
            ],
            _unconditional("bulk"),
            _OPEN,
            cycle="monthly",
            published="2022-09-09",
            related=("201002-00001",),
            keywords=("定点医院", "定点药店", "医保"),
        ),
        _res(
            "201003-00003",
            "医疗费用结算信息",
            "medical_security",
            "health",
            "医保就医结算明细的汇总：就诊机构、结算日期、总费用、统筹支付和个人自付。",
            [
                _f("settlement_id", "结算流水号", key=True, length=30),
                _f("resident_id", "参保人公民身份号码", pi="resident_id", length=18),
                _f("name", "参保人姓名", pi="name", length=50),
                _f("institution", "就诊机构", length=200),
                _f("settled_on", "结算日期", "date"),
                _f("total_cost", "医疗总费用（元）", "decimal"),
                _f("fund_paid", "统筹基金支付（元）", "decimal"),
                _f("self_paid", "个人自付（元）", "decimal"),
            ],
            _conditional(
                "用于医疗救助“一站式”结算和商业补充保险本人授权理赔等场景",
                reason="含医疗健康和财产敏感个人信息",
                legal_basis=PIPL_28,
            ),
            _closed(SENSITIVE_CLOSED, PIPL_28),
            grade="important",
            cycle="daily",
            published="2024-01-15",
            related=("201003-00001", "201003-00002"),
            keywords=("医保结算", "医疗费用"),
        ),
    ]


def _other_resources() -> list[dict[str, Any]]:
    return [
        _res(
            "301001-00001",
            "中小学学生学籍信息",
            "education",
            None,
            "本市中小学在籍学生的学籍号、就读学校、年级班级和学籍变动。",
            [
                _f("student_no", "全国学籍号", key=True, length=19),
                _f("resident_id", "学生公民身份号码", pi="resident_id", length=18),
                _f("name", "学生姓名", pi="name", length=50),
                _f("school", "就读学校", length=200),
                _f("grade", "年级", length=10),
                _f("enrolled_on", "入学日期", "date"),
                _f("status", "学籍状态", length=10),
            ],
            _conditional(
                "用于义务教育入学、学生资助和学生体检等场景",
                reason="含未成年人个人信息",
                legal_basis=MINORS_72,
            ),
            _closed(SENSITIVE_CLOSED, PIPL_31),
            grade="important",
            cycle="monthly",
            published="2023-09-01",
            related=(POPULATION, "301001-00002", "101001-00003"),
            keywords=("学籍", "中小学", "入学"),
        ),
        _res(
            "301001-00002",
            "各级各类学校基本信息",
            "education",
            None,
            "本市幼儿园、中小学、中等职业学校和高校的名称、办学类型、举办者和地址。",
            [
                _f("school_code", "学校标识码", key=True, length=10),
                _f("school_name", "学校名称", length=200),
                _f("school_type", "办学类型", length=20),
                _f("sponsor", "举办者", length=200),
                _f("district", "所在区", length=20),
                _f("address", "地址", length=200),
            ],
            _unconditional("bulk"),
            _OPEN,
            cycle="yearly",
            published="2022-09-01",
            related=(ADDRESSES,),
            keywords=("学校", "教育"),
        ),
        _res(
            "302001-00001",
            "公共租赁住房保障对象信息",
            "housing",
            None,
            "公共租赁住房申请、准入审核和配租信息。",
            [
                _f("application_no", "申请编号", key=True, length=20),
                _f("resident_id", "申请人公民身份号码", pi="resident_id", length=18),
                _f("name", "申请人姓名", pi="name", length=50),
                _f("household_size", "家庭人数", "integer"),
                _f("approved_on", "准入日期", "date"),
                _f("allocated_address", "配租房源地址", pi="address", length=200),
            ],
            _conditional("用于住房保障资格复核和租金补贴发放等场景"),
            _closed(),
            cycle="monthly",
            published="2024-03-18",
            related=(POPULATION, "103002-00001", MARRIAGES),
            keywords=("公租房", "住房保障"),
        ),
        _res(
            "302001-00002",
            "商品房预售许可信息",
            "housing",
            None,
            "新建商品房预售许可证、项目名称、开发企业、预售面积和套数。",
            [
                _f("permit_no", "预售许可证号", key=True, length=30),
                _f("project_name", "项目名称", length=200),
                _f("developer_uscc", "开发企业统一社会信用代码", length=18),
                _f("developer", "开发企业", length=200),
                _f("district", "所在区", length=20),
                _f("saleable_area", "预售面积（平方米）", "decimal"),
                _f("units", "预售套数", "integer"),
                _f("issued_on", "发证日期", "date"),
            ],
            _unconditional(),
            _OPEN,
            cycle="weekly",
            published="2022-11-30",
            related=(ENTERPRISES, "103002-00002"),
            keywords=("预售许可", "商品房", "楼盘"),
        ),
        _res(
            "303001-00001",
            "社区矫正对象信息",
            "justice",
            None,
            "社区矫正对象的矫正类别、矫正期限和执行地司法所。",
            [
                _f("case_id", "矫正档案编号", key=True, length=20),
                _f("resident_id", "公民身份号码", pi="resident_id", length=18),
                _f("name", "姓名", pi="name", length=50),
                _f("correction_type", "矫正类别", length=20),
                _f("start_on", "矫正起始日期", "date"),
                _f("end_on", "矫正终止日期", "date"),
                _f("judicial_office", "执行司法所", length=100),
            ],
            _not_shared(
                "社区矫正对象的身份信息和个人隐私依法予以保护，不纳入共享；"
                "公安、法院等确需的按个案函询",
                CORRECTIONS_LAW,
            ),
            _closed(SENSITIVE_CLOSED, CORRECTIONS_LAW),
            grade="important",
            cycle="daily",
            published="2024-05-27",
            related=(POPULATION,),
            keywords=("社区矫正",),
        ),
        _res(
            "304001-00001",
            "纳税人涉税明细信息",
            "tax",
            None,
            "纳税人按期申报、缴纳的分税种明细，含计税依据和税款金额。",
            [
                _f("declaration_no", "申报序号", key=True, length=30),
                _f("taxpayer_id", "纳税人识别号", length=18),
                _f("tax_type", "税种", length=20),
                _f("period", "所属期", length=7),
                _f("tax_base", "计税依据（元）", "decimal"),
                _f("tax_paid", "实缴税额（元）", "decimal"),
            ],
            _not_shared(
                "纳税人涉税明细属于应当保密的纳税人信息，不予共享；"
                "法定情形由税务机关按规定提供汇总或核验结果",
                TAX_ADMIN_8,
            ),
            _closed("属于纳税人商业秘密", TAX_ADMIN_8),
            grade="important",
            cycle="monthly",
            published="2024-02-26",
            related=("102003-00001", "104004-00001"),
            keywords=("纳税申报", "税收"),
        ),
        _res(
            "305001-00001",
            "巡游出租汽车驾驶员从业资格信息",
            "transport",
            None,
            "巡游出租汽车驾驶员从业资格证、服务单位和服务质量信誉考核等级。",
            [
                _f("certificate_no", "从业资格证号", key=True, length=20),
                _f("name", "驾驶员姓名", pi="name", length=50),
                _f("resident_id", "公民身份号码", pi="resident_id", length=18),
                _f("company", "服务单位", length=200),
                _f("rating", "服务质量信誉等级", length=10),
                _f("valid_until", "有效期至", "date"),
            ],
            _conditional("用于出租汽车行业监管和乘客投诉处理等场景"),
            _closed(),
            cycle="weekly",
            published="2025-04-08",
            related=("105002-00001",),
            keywords=("出租车", "从业资格"),
        ),
        _res(
            "306001-00001",
            "城市运行事件处置信息",
            "pudong",
            None,
            "浦东新区城市运行“一网统管”平台受理的城市管理事件：事件类别、发生地点、"
            "处置部门和办结时限。",
            [
                _f("event_id", "事件编号", key=True, length=20),
                _f("category", "事件类别", length=50),
                _f("street", "所属街镇", length=50),
                _f("location", "发生地点", length=200),
                _f("reported_at", "上报时间", "datetime"),
                _f("handler", "处置部门", length=100),
                _f("closed_at", "办结时间", "datetime"),
            ],
            _unconditional(),
            _open_conditional(
                "事件统计数据开放，事件明细经申请使用",
                "事件明细可能涉及举报人和当事人信息",
                DATA_REG,
            ),
            cycle="realtime",
            published="2026-01-12",
            related=(ADDRESSES,),
            keywords=("一网统管", "城市运行", "浦东"),
        ),
    ]


def resource_specs() -> list[dict[str, Any]]:
    """The demo node's catalog: dicts that validate as ``ResourceCreate``.

    Each call builds new dicts, so callers may modify what they get.
    """
    return [
        *_population_resources(),
        *_legal_person_resources(),
        *_geography_resources(),
        *_credit_resources(),
        *_licence_resources(),
        *_health_resources(),
        *_other_resources(),
    ]


def resource_spec(code: str) -> dict[str, Any]:
    """The demo resource with this code; KeyError if unknown."""
    for spec in resource_specs():
        if spec["code"] == code:
            return spec
    raise KeyError(code)


def field_names(code: str) -> list[str]:
    """The field names of a demo resource, in declared order."""
    return [f["name"] for f in resource_spec(code)["fields"]]

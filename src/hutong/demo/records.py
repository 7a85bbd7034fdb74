"""Generated records for the hosted resources of the demo Shanghai node.

Every generator is deterministic given its seed and returns a ``pyarrow.Table`` whose
columns are the fields of the matching resource in :func:`resource_specs`, in the
declared order, typed by :data:`ARROW_TYPES`. The tables are linked the way real ones
are: addresses in the population are door addresses of the address table, marriages and
vaccinations name residents of the population, licences and penalties name enterprises.

Synthetic data only: names, numbers and addresses are random, though check characters
(GB 11643 resident IDs, GB 32100 credit codes) are valid.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
from stdnum.cn import ric

from hutong.demo import catalog_data as cat

# The demo's "today": fixed so that the same seed always gives the same data.
REFERENCE_DATE = dt.date(2026, 10, 31)

# FieldType -> Arrow type. Decimals keep six places (coordinates need them); datetimes are
# instants shown in Beijing time (UTC+8), the time every Shanghai source system records.
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "decimal": pa.decimal128(20, 6),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("s", tz="+08:00"),
}


def arrow_schema(spec: dict[str, Any]) -> pa.Schema:
    """The Arrow schema of a resource spec: one column per field, typed by ARROW_TYPES."""
    return pa.schema(
        [
            pa.field(f["name"], ARROW_TYPES[f.get("type", "string")], nullable=not f.get("key"))
            for f in spec["fields"]
        ]
    )


def _table(code: str, columns: dict[str, list[Any]]) -> pa.Table:
    schema = arrow_schema(cat.resource_spec(code))
    if list(columns) != schema.names:
        raise ValueError(f"{code}: columns {list(columns)} differ from fields {schema.names}")
    return pa.Table.from_pydict(columns, schema=schema)


# ---------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class District:
    code: str
    name: str
    abbr: str  # one character, as in 沪市监浦处
    weight: int  # resident population, 10,000s (2020 census, rounded)
    lon: float
    lat: float
    streets: tuple[str, ...]
    roads: tuple[str, ...]


DISTRICTS: tuple[District, ...] = (
    District(
        "310101",
        "黄浦区",
        "黄",
        66,
        121.484,
        31.226,
        ("南京东路街道", "外滩街道", "豫园街道", "打浦桥街道", "淮海中路街道"),
        ("南京东路", "淮海中路", "西藏中路", "复兴中路", "河南南路", "蒙自路"),
    ),
    District(
        "310104",
        "徐汇区",
        "徐",
        111,
        121.437,
        31.179,
        ("徐家汇街道", "天平路街道", "田林街道", "康健新村街道", "龙华街道", "华泾镇"),
        ("漕溪北路", "天钥桥路", "宜山路", "龙华西路", "田林路", "虹漕路"),
    ),
    District(
        "310105",
        "长宁区",
        "长",
        69,
        121.424,
        31.220,
        ("华阳路街道", "天山路街道", "仙霞新村街道", "虹桥街道", "新泾镇"),
        ("延安西路", "天山路", "仙霞路", "古北路", "愚园路", "淞虹路"),
    ),
    District(
        "310106",
        "静安区",
        "静",
        98,
        121.448,
        31.250,
        ("静安寺街道", "江宁路街道", "大宁路街道", "彭浦新村街道", "临汾路街道"),
        ("南京西路", "江宁路", "共和新路", "延长中路", "广中西路", "平型关路"),
    ),
    District(
        "310107",
        "普陀区",
        "普",
        124,
        121.396,
        31.250,
        ("曹杨新村街道", "长寿路街道", "真如镇街道", "长征镇", "桃浦镇"),
        ("曹杨路", "长寿路", "真北路", "武宁路", "中山北路", "金沙江路"),
    ),
    District(
        "310109",
        "虹口区",
        "虹",
        76,
        121.505,
        31.265,
        ("四川北路街道", "欧阳路街道", "曲阳路街道", "江湾镇街道", "北外滩街道"),
        ("四川北路", "曲阳路", "大连西路", "东江湾路", "临平路", "中山北一路"),
    ),
    District(
        "310110",
        "杨浦区",
        "杨",
        124,
        121.526,
        31.270,
        ("控江路街道", "五角场街道", "殷行街道", "长白新村街道", "新江湾城街道"),
        ("控江路", "国权路", "黄兴路", "长阳路", "政立路", "包头路"),
    ),
    District(
        "310112",
        "闵行区",
        "闵",
        265,
        121.381,
        31.113,
        ("莘庄镇", "七宝镇", "古美路街道", "江川路街道", "浦锦街道", "梅陇镇"),
        ("沪闵路", "七莘路", "莲花南路", "都市路", "虹井路", "古美路"),
    ),
    District(
        "310113",
        "宝山区",
        "宝",
        223,
        121.445,
        31.405,
        ("友谊路街道", "淞南镇", "大场镇", "顾村镇", "罗店镇", "杨行镇"),
        ("牡丹江路", "友谊路", "共康路", "呼兰路", "淞滨路", "沪太路"),
    ),
    District(
        "310114",
        "嘉定区",
        "嘉",
        183,
        121.266,
        31.375,
        ("嘉定镇街道", "新成路街道", "安亭镇", "南翔镇", "江桥镇", "马陆镇"),
        ("城中路", "博乐路", "曹安公路", "墨玉路", "塔城路", "沪宜公路"),
    ),
    District(
        "310115",
        "浦东新区",
        "浦",
        568,
        121.567,
        31.205,
        ("陆家嘴街道", "花木街道", "潍坊新村街道", "张江镇", "川沙新镇", "周浦镇", "惠南镇"),
        ("张杨路", "世纪大道", "锦绣路", "东方路", "浦东南路", "川沙路", "科苑路"),
    ),
    District(
        "310116",
        "金山区",
        "金",
        80,
        121.342,
        30.741,
        ("石化街道", "朱泾镇", "枫泾镇", "亭林镇", "山阳镇"),
        ("卫零路", "蒙山路", "龙航路", "板桥西路", "亭卫公路"),
    ),
    District(
        "310117",
        "松江区",
        "松",
        191,
        121.228,
        31.032,
        ("岳阳街道", "方松街道", "九亭镇", "泗泾镇", "洞泾镇", "车墩镇"),
        ("人民北路", "荣乐东路", "中山中路", "文诚路", "沪亭北路", "涞亭南路"),
    ),
    District(
        "310118",
        "青浦区",
        "青",
        127,
        121.124,
        31.150,
        ("夏阳街道", "盈浦街道", "赵巷镇", "徐泾镇", "华新镇", "朱家角镇"),
        ("公园路", "城中东路", "盈港东路", "外青松公路", "崧泽大道"),
    ),
    District(
        "310120",
        "奉贤区",
        "奉",
        114,
        121.474,
        30.918,
        ("南桥镇", "奉浦街道", "西渡街道", "金汇镇", "庄行镇", "海湾镇"),
        ("南桥路", "解放东路", "环城东路", "金海公路", "望园路"),
    ),
    District(
        "310151",
        "崇明区",
        "崇",
        64,
        121.397,
        31.623,
        ("城桥镇", "堡镇", "陈家镇", "新河镇", "长兴镇"),
        ("八一路", "人民路", "东门路", "鳌山路", "翠竹路"),
    ),
)
_DISTRICT_BY_CODE = {d.code: d for d in DISTRICTS}
_DISTRICT_WEIGHTS = list(itertools.accumulate(d.weight for d in DISTRICTS))

# Area codes of residents born outside Shanghai (migrants), with rough weights.
MIGRANT_AREAS: tuple[tuple[str, int], ...] = (
    ("320102", 5),
    ("320582", 4),
    ("320602", 6),
    ("321002", 4),
    ("320902", 4),  # 江苏
    ("330102", 4),
    ("330203", 3),
    ("330302", 3),
    ("331002", 2),  # 浙江
    ("340104", 6),
    ("341302", 5),
    ("340202", 3),
    ("341202", 4),  # 安徽
    ("360102", 3),
    ("410102", 4),
    ("411502", 4),
    ("411302", 3),  # 江西 河南
    ("420102", 3),
    ("430102", 2),
    ("510104", 3),
    ("500101", 2),  # 湖北 湖南 四川 重庆
    ("370102", 2),
    ("350102", 2),
    ("230102", 1),
    ("130102", 1),  # 山东 福建 黑龙江 河北
    ("610102", 1),
    ("110101", 1),
    ("440106", 1),
    ("450102", 1),  # 陕西 北京 广东 广西
)
_MIGRANT_CODES = [code for code, _ in MIGRANT_AREAS]
_MIGRANT_WEIGHTS = list(itertools.accumulate(w for _, w in MIGRANT_AREAS))

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤施庄奚瞿俞葛倪翁"
)
# Rough frequency: the first surnames are far commoner; Shanghai has many 沈 陆 顾 徐 朱.
_SURNAME_WEIGHTS = list(
    itertools.accumulate(
        (60 if i < 10 else 25 if i < 30 else 10) + (20 if c in "沈陆顾徐朱张王" else 0)
        for i, c in enumerate(SURNAMES)
    )
)
MALE_CHARS = (
    "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林亮海东晨峰"
    "建文博志新国嘉天昊睿泽轩诚"
)
FEMALE_CHARS = (
    "芳娜敏静丽艳娟霞秀玲燕红婷雪琳晶颖莉慧欣怡佳蕾倩洁梅琴云萍丹露瑶璐涵萱雯妍晓月舒悦婧思雨"
)
ETHNICITIES: tuple[tuple[str, int], ...] = (
    ("汉族", 9850),
    ("回族", 30),
    ("满族", 25),
    ("蒙古族", 15),
    ("壮族", 12),
    ("土家族", 15),
    ("苗族", 12),
    ("朝鲜族", 10),
    ("维吾尔族", 5),
    ("藏族", 5),
    ("彝族", 6),
    ("布依族", 5),
    ("侗族", 5),
    ("瑶族", 5),
)
_ETHNIC_NAMES = [e for e, _ in ETHNICITIES]
_ETHNIC_WEIGHTS = list(itertools.accumulate(w for _, w in ETHNICITIES))
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)


def _choice(rng: random.Random, items: Sequence[Any]) -> Any:
    # rng.random() is much faster than rng.choice/randint, which matters at 100,000 rows.
    return items[int(rng.random() * len(items))]


def _int(rng: random.Random, low: int, high: int) -> int:
    """A random integer in [low, high]."""
    return low + int(rng.random() * (high - low + 1))


def _pick(rng: random.Random, items: Sequence[Any], cum_weights: Sequence[float]) -> Any:
    return items[bisect.bisect_right(cum_weights, rng.random() * cum_weights[-1])]


def _person_name(rng: random.Random, male: bool) -> str:
    surname = _pick(rng, SURNAMES, _SURNAME_WEIGHTS)
    chars = MALE_CHARS if male else FEMALE_CHARS
    if rng.random() < 0.25:
        return surname + _choice(rng, chars)
    return surname + _choice(rng, chars) + _choice(rng, chars)


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return dt.date.fromordinal(_int(rng, start.toordinal(), end.toordinal()))


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _instant_between(rng: random.Random, start: dt.date, end: dt.date) -> int:
    """Seconds since the epoch of a moment in office hours (07:00-22:00 Beijing time)."""
    day = _int(rng, start.toordinal(), end.toordinal()) - _EPOCH_ORDINAL
    return day * 86_400 + _int(rng, 7 * 3_600, 22 * 3_600 - 1) - 8 * 3_600


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _age(birth: dt.date, on: dt.date = REFERENCE_DATE) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def resident_id(area: str, birth: dt.date, sequence: int) -> str:
    """A GB 11643 resident ID: area + birth date + 3-digit sequence + check character."""
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def _decimal(value: float, places: int = 2) -> Decimal:
    return Decimal(f"{value:.{places}f}")


def _rng(kind: str, seed: int) -> random.Random:
    # A string seed is hashed with SHA-512 by random.Random: stable across runs and platforms.
    return random.Random(f"hutong.demo.{kind}:{seed}")


def _address_pool_size(population_size: int) -> int:
    return max(2_000, population_size // 5)


def _addresses_by_district(table: pa.Table) -> dict[str, list[str]]:
    pool: dict[str, list[str]] = {d.code: [] for d in DISTRICTS}
    codes = table.column("district_code").to_pylist()
    for code, full in zip(codes, table.column("full_address").to_pylist(), strict=True):
        pool[code].append(full)
    return pool


# ---------------------------------------------------------------------------
# 门牌地址 (addresses)
# ---------------------------------------------------------------------------


def addresses(n: int = 20_000, *, seed: int = 7) -> pa.Table:
    """门牌地址信息: ``n`` door addresses spread over the 16 districts by population."""
    rng = _rng("addresses", seed)
    seen: set[str] = set()
    cols: dict[str, list[Any]] = {name: [] for name in cat.field_names(cat.ADDRESSES)}
    i = 0
    while i < n:
        # The first rows go round the districts, so every district has some addresses.
        if i < 4 * len(DISTRICTS):
            d = DISTRICTS[i % len(DISTRICTS)]
        else:
            d = _pick(rng, DISTRICTS, _DISTRICT_WEIGHTS)
        road = _choice(rng, d.roads)
        lane: str | None
        if rng.random() < 0.7:
            lane, house = str(_int(rng, 1, 1999)), str(_int(rng, 1, 120))
            full = f"上海市{d.name}{road}{lane}弄{house}号"
        else:
            lane, house = None, str(_int(rng, 1, 2999))
            full = f"上海市{d.name}{road}{house}号"
        if full in seen:
            continue
        seen.add(full)
        spread = 0.025 + d.weight / 568 * 0.07
        i += 1
        cols["address_code"].append(f"{d.code}{i:010d}")
        cols["district_code"].append(d.code)
        cols["district"].append(d.name)
        cols["street"].append(_choice(rng, d.streets))
        cols["road"].append(road)
        cols["lane"].append(lane)
        cols["house_number"].append(house)
        cols["full_address"].append(full)
        cols["longitude"].append(_decimal(d.lon + rng.uniform(-spread, spread), 6))
        cols["latitude"].append(_decimal(d.lat + rng.uniform(-spread, spread) * 0.8, 6))
    return _table(cat.ADDRESSES, cols)


# ---------------------------------------------------------------------------
# 人口基本信息 (population)
# ---------------------------------------------------------------------------

# (lowest age, highest age, weight)
_AGE_BANDS_LOCAL = (
    (0, 14, 10),
    (15, 24, 8),
    (25, 44, 26),
    (45, 59, 23),
    (60, 79, 26),
    (80, 100, 7),
)
_AGE_BANDS_MIGRANT = ((0, 14, 9), (15, 24, 13), (25, 44, 50), (45, 59, 22), (60, 80, 6))


def _birth_sampler(
    bands: tuple[tuple[int, int, int], ...],
) -> tuple[list[tuple[int, int]], list[int]]:
    """Ordinal ranges of birth dates per age band on REFERENCE_DATE, and cumulative weights."""
    ranges = [
        (
            (_add_years(REFERENCE_DATE, -(high + 1)) + dt.timedelta(days=1)).toordinal(),
            _add_years(REFERENCE_DATE, -low).toordinal(),
        )
        for low, high, _ in bands
    ]
    return ranges, list(itertools.accumulate(w for _, _, w in bands))


def population(
    n: int = 100_000, *, seed: int = 7, addresses_table: pa.Table | None = None
) -> pa.Table:
    """人口基本信息: ``n`` residents with valid, unique GB 11643 resident IDs.

    About 35% were born outside Shanghai (their ID carries another province's area code
    and their household district is that code); the others carry a Shanghai district code
    and live in that district. Sex, birth date and ID agree. Addresses are door addresses
    of ``addresses_table`` (by default ``addresses(max(2000, n // 5), seed=seed)``) plus a
    room. Children under 14 have no mobile number.
    """
    rng = _rng("population", seed)
    rand = rng.random
    if addresses_table is None:
        addresses_table = addresses(_address_pool_size(n), seed=seed)
    pool = _addresses_by_district(addresses_table)
    local_ranges, local_weights = _birth_sampler(_AGE_BANDS_LOCAL)
    migrant_ranges, migrant_weights = _birth_sampler(_AGE_BANDS_MIGRANT)
    child_after = _add_years(REFERENCE_DATE, -14).toordinal()  # born after: under 14
    update_from, update_to = dt.date(2024, 1, 1), REFERENCE_DATE
    ids: set[str] = set()
    cols: dict[str, list[Any]] = {name: [] for name in cat.field_names(cat.POPULATION)}
    while len(ids) < n:
        district = _pick(rng, DISTRICTS, _DISTRICT_WEIGHTS)
        if rand() < 0.35:  # born elsewhere, lives in Shanghai
            area = _pick(rng, _MIGRANT_CODES, _MIGRANT_WEIGHTS)
            low, high = _pick(rng, migrant_ranges, migrant_weights)
        else:
            area = district.code
            low, high = _pick(rng, local_ranges, local_weights)
        birth_ordinal = low + int(rand() * (high - low + 1))
        birth = dt.date.fromordinal(birth_ordinal)
        male = rand() < 0.51
        # The last digit of the sequence is odd for a man, even for a woman.
        sequence = int(rand() * 499) * 2 + (1 if male else 2)
        rid = resident_id(area, birth, sequence)
        if rid in ids:
            continue
        ids.add(rid)
        buildings = pool[district.code]
        cols["resident_id"].append(rid)
        cols["name"].append(_person_name(rng, male))
        cols["sex"].append("男" if male else "女")
        cols["birth_date"].append(birth)
        cols["ethnicity"].append(_pick(rng, _ETHNIC_NAMES, _ETHNIC_WEIGHTS))
        cols["mobile"].append(
            None
            if birth_ordinal > child_after
            else f"{_choice(rng, MOBILE_PREFIXES)}{int(rand() * 100_000_000):08d}"
        )
        cols["address"].append(
            f"{_choice(rng, buildings)}{_int(rng, 1, 18)}{_int(rng, 1, 6):02d}室"
        )
        cols["household_district"].append(area)
        cols["updated_at"].append(_instant_between(rng, update_from, update_to))
    return _table(cat.POPULATION, cols)


# ---------------------------------------------------------------------------
# 企业登记注册信息 (enterprises)
# ---------------------------------------------------------------------------

# 行业门类 (GB/T 4754) with words that go into company names, and a weight.
INDUSTRIES: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("信息传输、软件和信息技术服务业", ("信息技术", "网络科技", "软件技术", "数据科技"), 18),
    ("科学研究和技术服务业", ("生物科技", "环保科技", "新材料科技", "检测技术"), 12),
    ("批发和零售业", ("贸易", "商贸", "国际贸易", "医药"), 22),
    ("租赁和商务服务业", ("企业管理咨询", "商务咨询", "人力资源", "广告"), 16),
    ("制造业", ("精密机械", "电子", "汽车零部件", "服饰"), 8),
    ("建筑业", ("建筑工程", "装饰工程", "建设工程"), 6),
    ("住宿和餐饮业", ("餐饮管理", "酒店管理", "食品"), 6),
    ("交通运输、仓储和邮政业", ("物流", "供应链管理", "货运代理"), 5),
    ("文化、体育和娱乐业", ("文化传媒", "文化传播", "体育发展"), 4),
    ("房地产业", ("置业", "物业管理", "房地产经纪"), 3),
    ("居民服务、修理和其他服务业", ("家政服务", "汽车服务", "美容"), 3),
)
_INDUSTRY_WEIGHTS = list(itertools.accumulate(w for *_, w in INDUSTRIES))
# 企业类型 with the organizational form that ends the name, and a weight.
ENTERPRISE_TYPES: tuple[tuple[str, str, int], ...] = (
    ("有限责任公司（自然人投资或控股）", "有限公司", 55),
    ("有限责任公司（自然人独资）", "有限公司", 18),
    ("股份有限公司（非上市、自然人投资或控股）", "股份有限公司", 4),
    ("有限责任公司（外商投资、非独资）", "有限公司", 3),
    ("有限责任公司（外国法人独资）", "有限公司", 3),
    ("有限责任公司（国有独资）", "有限公司", 1),
    ("个人独资企业", "中心", 8),
    ("有限合伙企业", "合伙企业（有限合伙）", 8),
)
_TYPE_WEIGHTS = list(itertools.accumulate(w for *_, w in ENTERPRISE_TYPES))
TRADE_NAME_CHARS = (
    "华鑫恒泰盛达瑞丰宏远新创博凯睿通源利德信和嘉汇成禾祥隆锦安申浦海誉启明辰宸蓝天星光佳禧弘润宜"
)
_CAPITALS = (1, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000, 50000)
_CAPITAL_WEIGHTS = list(itertools.accumulate((3, 4, 6, 14, 8, 8, 14, 18, 7, 5, 6, 4, 1, 1, 1, 0.3)))
_FOUNDING_YEARS = list(range(1992, REFERENCE_DATE.year + 1))
_FOUNDING_WEIGHTS = list(
    itertools.accumulate(
        1 if y < 2000 else 3 if y < 2010 else 6 if y < 2015 else 10 for y in _FOUNDING_YEARS
    )
)
_ORG_CHARS = cat.USCC_ALPHABET
CITY_SAMR = "上海市市场监督管理局"


def _enterprise_uscc(rng: random.Random, established: dt.date, district: District) -> str:
    region = district.code if rng.random() < 0.6 else "310000"
    if established >= dt.date(2015, 10, 1):  # codes issued under GB 32100: MA... bodies
        body = "MA1" + "".join(_choice(rng, _ORG_CHARS) for _ in range(5))
    else:  # older enterprises kept their numeric organization code
        body = _choice(rng, "167") + f"{int(rng.random() * 10_000_000):07d}"
    return cat.make_uscc("91", region, body)


def _registration_authority(uscc: str, district: District) -> str:
    return CITY_SAMR if uscc[2:8] == "310000" else f"上海市{district.name}市场监督管理局"


def enterprises(
    n: int = 20_000, *, seed: int = 7, addresses_table: pa.Table | None = None
) -> pa.Table:
    """企业登记注册信息: ``n`` enterprises with valid, unique credit codes (91 + region + ...).

    Codes of enterprises founded from October 2015 carry an ``MA1`` organization code; the
    region is the district (registered by the district bureau) or 310000 (by the city).
    Registered addresses are door addresses of ``addresses_table``.
    """
    rng = _rng("enterprises", seed)
    if addresses_table is None:
        addresses_table = addresses(_address_pool_size(5 * n), seed=seed)
    pool = _addresses_by_district(addresses_table)
    codes: set[str] = set()
    names: set[str] = set()
    cols: dict[str, list[Any]] = {name: [] for name in cat.field_names(cat.ENTERPRISES)}
    while len(codes) < n:
        district = _pick(rng, DISTRICTS, _DISTRICT_WEIGHTS)
        year = _pick(rng, _FOUNDING_YEARS, _FOUNDING_WEIGHTS)
        established = _date_between(
            rng, dt.date(year, 1, 1), min(dt.date(year, 12, 31), REFERENCE_DATE)
        )
        uscc = _enterprise_uscc(rng, established, district)
        etype, form, _ = _pick(rng, ENTERPRISE_TYPES, _TYPE_WEIGHTS)
        if etype == "有限合伙企业":  # partnerships are mostly holding and investment vehicles
            industry, words = "租赁和商务服务业", ("企业管理", "企业管理咨询", "创业投资")
        else:
            industry, words, _ = _pick(rng, INDUSTRIES, _INDUSTRY_WEIGHTS)
        size = 2 if rng.random() < 0.8 else 3
        trade_name = "".join(_choice(rng, TRADE_NAME_CHARS) for _ in range(size))
        name = f"上海{trade_name}{_choice(rng, words)}{form}"
        if uscc in codes or name in names:
            continue
        codes.add(uscc)
        names.add(name)
        age = REFERENCE_DATE.year - year
        r = rng.random()
        if r < min(0.02 * age, 0.25):
            status = "注销"
        elif r < min(0.02 * age, 0.25) + (0.04 if age > 3 else 0.0):
            status = "吊销"
        elif r > 0.99:
            status = "迁出"
        else:
            status = "存续"
        floor = _int(rng, 1, 28)
        suffix = _choice(
            rng,
            (
                f"{floor}层",
                f"{floor}层{_int(rng, 1, 30):02d}室",
                f"{_int(rng, 1, 12)}幢{floor}层",
                f"{floor}{_int(rng, 1, 30):02d}室",
            ),
        )
        cols["uscc"].append(uscc)
        cols["name"].append(name)
        cols["enterprise_type"].append(etype)
        cols["legal_representative"].append(_person_name(rng, rng.random() < 0.68))
        cols["registered_capital"].append(Decimal(_pick(rng, _CAPITALS, _CAPITAL_WEIGHTS)))
        cols["established_on"].append(established)
        cols["district"].append(district.name)
        cols["registered_address"].append(_choice(rng, pool[district.code]) + suffix)
        cols["industry"].append(industry)
        cols["registration_authority"].append(_registration_authority(uscc, district))
        cols["status"].append(status)
    return _table(cat.ENTERPRISES, cols)


def _rows(table: pa.Table, *names: str) -> list[tuple[Any, ...]]:
    return list(zip(*(table.column(name).to_pylist() for name in names), strict=True))


# ---------------------------------------------------------------------------
# 营业执照电子证照 (business licences)
# ---------------------------------------------------------------------------


def business_licences(enterprises_table: pa.Table, *, seed: int = 7) -> pa.Table:
    """营业执照电子证照: one licence for every enterprise still registered (存续 or 吊销).

    The licence repeats the enterprise's registration; it was issued at founding or at the
    last change of registration. ``business_term_until`` is empty for a term of 长期.
    """
    rng = _rng("business_licences", seed)
    cols: dict[str, list[Any]] = {name: [] for name in cat.field_names(cat.BUSINESS_LICENCES)}
    rows = _rows(
        enterprises_table,
        "uscc",
        "name",
        "enterprise_type",
        "legal_representative",
        "registered_capital",
        "established_on",
        "registered_address",
        "registration_authority",
        "status",
    )
    for i, (
        uscc,
        name,
        etype,
        legal_rep,
        capital,
        established,
        address,
        authority,
        status,
    ) in enumerate(rows, start=1):
        if status not in ("存续", "吊销"):
            continue
        changed = rng.random() < 0.4 and established < REFERENCE_DATE
        issued = (
            _date_between(rng, established + dt.timedelta(days=1), REFERENCE_DATE)
            if changed
            else established
        )
        term = None if rng.random() < 0.7 else _add_years(established, _choice(rng, (20, 30, 50)))
        cols["licence_no"].append(f"31{issued:%Y%m%d}{i:08d}")
        cols["uscc"].append(uscc)
        cols["name"].append(name)
        cols["enterprise_type"].append(etype)
        cols["legal_representative"].append(legal_rep)
        cols["registered_capital"].append(capital)
        cols["established_on"].append(established)
        cols["business_term_until"].append(term)
        cols["registered_address"].append(address)
        cols["issuing_authority"].append(authority)
        cols["issued_on"].append(issued)
        cols["licence_status"].append("有效" if status == "存续" else "已吊销")
    return _table(cat.BUSINESS_LICENCES, cols)


# ---------------------------------------------------------------------------
# 行政处罚信息 (administrative penalties, 双公示)
# ---------------------------------------------------------------------------

# (违法行为类型, 处罚依据, lowest fine, highest fine in yuan (0: warning only), 处罚类别)
VIOLATIONS: tuple[tuple[str, str, int, int, str], ...] = (
    (
        "销售不符合保障人体健康和人身、财产安全的国家标准、行业标准的产品",
        "《中华人民共和国产品质量法》第四十九条",
        5_000,
        200_000,
        "没收违法所得、罚款",
    ),
    ("发布虚假广告", "《中华人民共和国广告法》第五十五条", 200_000, 1_000_000, "罚款"),
    (
        "对商品作虚假或者引人误解的商业宣传",
        "《中华人民共和国反不正当竞争法》",
        200_000,
        1_000_000,
        "罚款",
    ),
    ("不按规定明码标价", "《中华人民共和国价格法》第四十二条", 500, 5_000, "警告、罚款"),
    (
        "经营超过保质期的食品",
        "《中华人民共和国食品安全法》第一百二十四条",
        50_000,
        100_000,
        "没收违法所得、罚款",
    ),
    ("侵害消费者合法权益", "《中华人民共和国消费者权益保护法》第五十六条", 0, 0, "警告"),
)
_VIOLATION_WEIGHTS = list(itertools.accumulate((20, 10, 12, 30, 18, 10)))


def credit_penalties(enterprises_table: pa.Table, *, seed: int = 7, rate: float = 0.06) -> pa.Table:
    """行政处罚信息: penalties on about ``rate`` of the registered enterprises since 2019.

    Decided by the enterprise's district bureau (or the city bureau), after its founding.
    Publicity lasts one year, three for fines of 100,000 yuan or more.
    """
    rng = _rng("credit_penalties", seed)
    counters: dict[tuple[str, int], int] = {}
    cols: dict[str, list[Any]] = {name: [] for name in cat.field_names(cat.PENALTIES)}
    by_name = {d.name: d for d in DISTRICTS}
    earliest = dt.date(2019, 1, 1)
    rows = _rows(enterprises_table, "uscc", "name", "established_on", "district", "status")
    for uscc, name, established, district_name, status in rows:
        if status not in ("存续", "吊销") or rng.random() >= rate:
            continue
        district = by_name[district_name]
        for _ in range(2 if rng.random() < 0.15 else 1):
            start = max(established + dt.timedelta(days=30), earliest)
            if start > REFERENCE_DATE:
                break
            decided = _date_between(rng, start, REFERENCE_DATE)
            violation, basis, low, high, kind = _pick(rng, VIOLATIONS, _VIOLATION_WEIGHTS)
            fine = None if high == 0 else Decimal(_int(rng, low // 100, high // 100) * 100)
            if rng.random() < 0.1:
                authority, prefix, area = CITY_SAMR, "沪市监总处", "00"
            else:
                authority = f"上海市{district.name}市场监督管理局"
                prefix, area = f"沪市监{district.abbr}处", district.code[-2:]
            number = counters[authority, decided.year] = (
                counters.get((authority, decided.year), 0) + 1
            )
            serious = fine is not None and fine >= 100_000
            cols["decision_no"].append(
                f"{prefix}〔{decided.year}〕{area}{decided.year}{number:06d}号"
            )
            cols["party_name"].append(name)
            cols["party_uscc"].append(uscc)
            cols["violation_type"].append(violation)
            cols["legal_basis"].append(basis)
            cols["penalty_type"].append(kind)
            cols["fine_amount"].append(fine)
            cols["decided_on"].append(decided)
            cols["authority"].append(authority)
            cols["publicity_until"].append(_add_years(decided, 3 if serious else 1))
    return _table(cat.PENALTIES, cols)


# ---------------------------------------------------------------------------
# 疫苗接种记录 (vaccinations)
# ---------------------------------------------------------------------------

COVID_INACTIVATED = (
    ("新型冠状病毒灭活疫苗（Vero细胞）", "北京科兴中维生物技术有限公司"),
    ("新型冠状病毒灭活疫苗（Vero细胞）", "北京生物制品研究所有限责任公司"),
)
COVID_PROTEIN = ("重组新型冠状病毒蛋白疫苗（CHO细胞）", "安徽智飞龙科马生物制药有限公司")
HEPATITIS_B = (
    ("重组乙型肝炎疫苗（酿酒酵母）", "深圳康泰生物制品股份有限公司"),
    ("重组乙型肝炎疫苗（汉逊酵母）", "大连汉信生物制药有限公司"),
)
MMR = (
    ("麻腮风联合减毒活疫苗", "北京生物制品研究所有限责任公司"),
    ("麻腮风联合减毒活疫苗", "上海生物制品研究所有限责任公司"),
)
INFLUENZA = (
    ("流感病毒裂解疫苗", "华兰生物疫苗股份有限公司"),
    ("流感病毒裂解疫苗", "上海生物制品研究所有限责任公司"),
)
PNEUMOCOCCAL = (
    ("23价肺炎球菌多糖疫苗", "成都生物制品研究所有限责任公司"),
    ("23价肺炎球菌多糖疫苗", "玉溪沃森生物技术有限公司"),
)
HPV = ("双价人乳头瘤病毒疫苗（大肠杆菌）", "厦门万泰沧海生物技术有限公司")


def _doses(
    vaccine: tuple[str, str], first: dt.date, offsets: Sequence[int]
) -> list[tuple[str, str, int, dt.date]]:
    """Doses given ``offsets`` days after ``first``, up to REFERENCE_DATE."""
    out = []
    for dose, offset in enumerate(offsets, start=1):
        day = first + dt.timedelta(days=offset)
        if day > REFERENCE_DATE:
            break
        out.append((vaccine[0], vaccine[1], dose, day))
    return out


def _person_vaccinations(
    rng: random.Random, birth: dt.date, female: bool
) -> list[tuple[str, str, int, dt.date]]:
    shots: list[tuple[str, str, int, dt.date]] = []
    if birth >= dt.date(2012, 1, 1):  # national immunization programme, recorded since birth
        shots += _doses(
            _choice(rng, HEPATITIS_B), birth, (0, _int(rng, 28, 40), _int(rng, 180, 200))
        )
        shots += _doses(_choice(rng, MMR), birth, (_int(rng, 243, 270), _int(rng, 548, 600)))
    if _age(birth, dt.date(2021, 7, 1)) >= 3 and rng.random() < 0.85:  # COVID-19, 2021-2022
        first = _date_between(rng, dt.date(2021, 3, 1), dt.date(2021, 10, 31))
        if rng.random() < 0.1:
            shots += _doses(COVID_PROTEIN, first, (0, _int(rng, 30, 45), _int(rng, 60, 90)))
        else:
            vaccine = _choice(rng, COVID_INACTIVATED)
            offsets = [0, _int(rng, 21, 56)]
            if _age(birth, first) >= 18 and rng.random() < 0.75:
                offsets.append(offsets[1] + _int(rng, 180, 400))
            shots += _doses(vaccine, first, offsets)
    if rng.random() < 0.2:  # one seasonal influenza shot
        season = _int(rng, 2023, 2025)
        shots += _doses(
            _choice(rng, INFLUENZA),
            _date_between(rng, dt.date(season, 9, 15), dt.date(season + 1, 1, 31)),
            (0,),
        )
    if _age(birth) >= 60 and rng.random() < 0.3:
        shots += _doses(
            _choice(rng, PNEUMOCOCCAL),
            _date_between(rng, dt.date(2023, 1, 1), REFERENCE_DATE),
            (0,),
        )
    if female and 15 <= _age(birth, dt.date(2023, 1, 1)) <= 45 and rng.random() < 0.08:
        first = _date_between(rng, dt.date(2023, 1, 1), dt.date(2025, 6, 30))
        shots += _doses(HPV, first, (0, _int(rng, 28, 40), _int(rng, 180, 200)))
    return [shot for shot in shots if shot[3] >= birth]


def _district_of(address: str) -> District:
    for d in DISTRICTS:
        if address.startswith(f"上海市{d.name}"):
            return d
    return DISTRICTS[0]


def vaccinations(population_table: pa.Table, *, seed: int = 7) -> pa.Table:
    """疫苗接种记录 of the residents in ``population_table``.

    Childhood vaccines for children born since 2012, COVID-19 doses in 2021-2022 for most
    people aged 3 and over, and some influenza, pneumococcal and HPV shots. Each person is
    vaccinated at a community health centre of the district they live in.
    """
    rng = _rng("vaccinations", seed)
    cols: dict[str, list[Any]] = {name: [] for name in cat.field_names(cat.VACCINATIONS)}
    serial = 0
    for rid, name, sex, birth, address in _rows(
        population_table, "resident_id", "name", "sex", "birth_date", "address"
    ):
        district = _district_of(address)
        site = f"{district.name}{_choice(rng, district.streets)}社区卫生服务中心"
        for vaccine, maker, dose, day in _person_vaccinations(rng, birth, sex == "女"):
            serial += 1
            cols["record_id"].append(f"YM{day:%Y%m%d}{serial:010d}")
            cols["resident_id"].append(rid)
            cols["name"].append(name)
            cols["vaccine_name"].append(vaccine)
            cols["manufacturer"].append(maker)
            cols["batch_no"].append(f"{day.year}{day.month:02d}{_int(rng, 1, 40):03d}")
            cols["dose_no"].append(dose)
            cols["vaccinated_on"].append(day)
            cols["vaccination_site"].append(site)
    return _table(cat.VACCINATIONS, cols)


# ---------------------------------------------------------------------------
# 婚姻登记信息 (marriage registrations)
# ---------------------------------------------------------------------------


# The 1980 Marriage Law set today's legal ages (men 22, women 20) from 1981 on; the table
# holds registrations since then, so couples who came of age earlier are not in it.
MARRIAGE_RECORDS_FROM = dt.date(1981, 1, 1)


def marriages(population_table: pa.Table, *, seed: int = 7) -> pa.Table:
    """婚姻登记信息 between residents of ``population_table``, registered since 1981.

    Men of 22 and over and women of 20 and over (the legal ages) are paired with partners
    of a similar age; each person marries at most once, registration falls after both
    reached the legal age, and about 7% of marriages are later dissolved (离婚登记).
    """
    rng = _rng("marriages", seed)
    men: list[tuple[float, str, str, dt.date, str]] = []
    women: list[tuple[float, str, str, dt.date, str]] = []
    for rid, name, sex, birth, household in _rows(
        population_table, "resident_id", "name", "sex", "birth_date", "household_district"
    ):
        age = _age(birth)
        legal = 22 if sex == "男" else 20
        if age < legal:
            continue
        chance = 0.35 if age < 30 else 0.75 if age < 40 else 0.85
        if rng.random() >= chance:
            continue
        # Sort key: birth date with noise; husbands are on average two years older.
        key = birth.toordinal() + rng.gauss(0, 700) + (730 if sex == "男" else 0)
        (men if sex == "男" else women).append((key, rid, name, birth, household))
    men.sort()
    women.sort()
    counters: dict[tuple[str, int], int] = {}

    def number(kind: str, district: District, year: int) -> str:
        count = counters[district.code, year] = counters.get((district.code, year), 0) + 1
        return f"{kind}{district.code}-{year}-{count:06d}"

    cols: dict[str, list[Any]] = {name: [] for name in cat.field_names(cat.MARRIAGES)}

    def add(
        no: str,
        kind: str,
        man: tuple[Any, ...],
        woman: tuple[Any, ...],
        day: dt.date,
        district: District,
    ) -> None:
        cols["registration_no"].append(no)
        cols["registration_type"].append(kind)
        cols["male_resident_id"].append(man[1])
        cols["male_name"].append(man[2])
        cols["female_resident_id"].append(woman[1])
        cols["female_name"].append(woman[2])
        cols["registered_on"].append(day)
        cols["registration_authority"].append(f"上海市{district.name}民政局")

    for man, woman in zip(men, women, strict=False):
        start = max(_add_years(man[3], 22), _add_years(woman[3], 20))
        if start < MARRIAGE_RECORDS_FROM or start > REFERENCE_DATE:
            continue
        end = min(REFERENCE_DATE, start + dt.timedelta(days=3_650))
        day = _date_between(rng, start, end)
        home = next((h for h in (man[4], woman[4]) if h in _DISTRICT_BY_CODE), None)
        district = _DISTRICT_BY_CODE[home] if home else _pick(rng, DISTRICTS, _DISTRICT_WEIGHTS)
        add(number("J", district, day.year), "结婚登记", man, woman, day, district)
        if rng.random() < 0.07 and day + dt.timedelta(days=365) < REFERENCE_DATE:
            later = _date_between(
                rng,
                day + dt.timedelta(days=365),
                min(REFERENCE_DATE, day + dt.timedelta(days=15 * 365)),
            )
            add(number("L", district, later.year), "离婚登记", man, woman, later, district)
    return _table(cat.MARRIAGES, cols)


# ---------------------------------------------------------------------------
# All hosted tables
# ---------------------------------------------------------------------------


def hosted_tables(*, seed: int = 7, population_size: int = 100_000) -> dict[str, pa.Table]:
    """Every hosted table of the demo node, keyed by resource code, linked to each other.

    Sizes follow ``population_size``: door addresses ``max(2000, size // 5)``, enterprises
    ``max(100, size // 5)``; marriages, vaccinations, licences and penalties follow from
    the people and enterprises.
    """
    address_table = addresses(_address_pool_size(population_size), seed=seed)
    people = population(population_size, seed=seed, addresses_table=address_table)
    firms = enterprises(max(100, population_size // 5), seed=seed, addresses_table=address_table)
    return {
        cat.POPULATION: people,
        cat.MARRIAGES: marriages(people, seed=seed),
        cat.ENTERPRISES: firms,
        cat.ADDRESSES: address_table,
        cat.PENALTIES: credit_penalties(firms, seed=seed),
        cat.BUSINESS_LICENCES: business_licences(firms, seed=seed),
        cat.VACCINATIONS: vaccinations(people, seed=seed),
    }

"""个人信息识别: detect which kind of personal information a single value holds.

Identifiers are validated (check characters, Luhn, real birth dates), not only
pattern-matched, so that a column proposal rests on evidence. ``detect`` never raises
on a ``str``: it is fed raw cells from uploaded files.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass, field
from typing import Literal

from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

RESIDENT_ID = "resident_id"
USCC = "uscc"
MOBILE = "mobile"
BANK_CARD = "bank_card"
EMAIL = "email"
PLATE = "plate"
NAME = "name"
ADDRESS = "address"

CATEGORIES: tuple[str, ...] = (
    RESIDENT_ID,
    USCC,
    MOBILE,
    BANK_CARD,
    EMAIL,
    PLATE,
    NAME,
    ADDRESS,
)

EARLIEST_BIRTH_YEAR = 1880

# Quality warnings attached to a resident ID that is valid but not fully verifiable.
WARNING_UNKNOWN_AREA = "unknown_area_code"
WARNING_AREA_LOOKUP_UNAVAILABLE = "area_lookup_unavailable"

# 百家姓: common single-character surnames (written out by hand, not exhaustive).
# Characters that are rare as surnames but frequent at the start of ordinary words
# (区, 国, 公, 海, 中, 上, ...) are left out on purpose to keep detection conservative.
SINGLE_SURNAMES: frozenset[str] = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余"
    "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁"
    "岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝"
    "路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景"
    "党宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩佘池"
    "查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥班储栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻厉伊仝郜阚花权强"
    "帅屠豆朴盖练廉禹井祖漆巴丰卿狄索宣晋扈晁芮阙浦戈伏鹿薄邸雍辜羊乌母裘亓修邰赫杭况宿"
    "鲜印逯隆茹诸战慕危玉银亢嵇哈湛宾戎勾茅於呼居揭尉冶斯束檀衣阴昝幸奉植衡富尧闭"
)

# 复姓: compound surnames.
# fmt: off
COMPOUND_SURNAMES: frozenset[str] = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
    "宇文", "司徒", "夏侯", "轩辕", "令狐", "独孤", "南宫", "西门", "百里", "呼延",
    "端木", "东郭", "赫连", "澹台", "公冶", "宗政", "濮阳", "太史", "申屠", "钟离",
    "闻人", "万俟", "司空", "第五", "拓跋", "完颜", "单于", "左丘", "谷梁", "梁丘",
    "公羊", "段干", "巫马", "乐正", "漆雕", "微生", "羊舌", "亓官", "仲孙", "东门",
    "鲜于", "闾丘", "子车", "颛孙", "公良", "夹谷", "宰父",
})
# fmt: on

# A value ending in one of these is an organisation or place, not a person.
NAME_STOP_SUFFIXES: frozenset[str] = frozenset("省市区县局委办路街镇乡村厅处站部所院校馆队厂店司")

PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_MIDDLE_DOTS = "\u00b7\u2022\u2027\u30fb"

_SEPARATORS_RE = re.compile(r"[\s\-]")
_RESIDENT_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_USCC_RE = re.compile(r"[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}")
_MOBILE_PREFIX_RE = re.compile(r"^(?:\+86|0086)")
_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_BANK_CARD_RE = re.compile(r"[3-6][0-9]{15,18}")
_EMAIL_RE = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_PLATE_RE = re.compile(
    rf"[{PLATE_PROVINCES}][A-Z][·•.\s]?"
    r"(?:[A-HJ-NP-Z0-9]{4}[A-HJ-NP-Z0-9挂学警港澳]"  # ordinary: 5 characters
    r"|[DF][A-HJ-NP-Z0-9][0-9]{4}"  # new-energy small car: D/F first
    r"|[0-9]{5}[DF])"  # new-energy large vehicle: D/F last
)
_HAN_NAME_RE = re.compile(rf"[{_HAN}]{{2,4}}")
_ETHNIC_NAME_RE = re.compile(rf"[{_HAN}]{{1,10}}(?:[{_MIDDLE_DOTS}][{_HAN}]{{1,10}}){{1,3}}")
_MIDDLE_DOT_RE = re.compile(f"[{_MIDDLE_DOTS}]")
_ADDRESS_RE = re.compile(
    rf"[{_HAN}](?:省|市|区|县|镇|乡|街道).*?(?:路|街|弄|号|村|巷|室|幢|栋|大道)", re.DOTALL
)
ADDRESS_MIN_LENGTH = 6
ADDRESS_MAX_LENGTH = 200

_HALFWIDTH = {codepoint: codepoint - 0xFEE0 for codepoint in range(0xFF01, 0xFF5F)}
_HALFWIDTH[0x3000] = 0x20


@dataclass(frozen=True)
class ResidentIdInfo:
    """居民身份证号 facts: what an 18-character resident ID number encodes."""

    number: str
    area_code: str
    birth_date: datetime.date
    sex: Literal["M", "F"]
    area_known: bool
    area_name: str | None = None
    warnings: tuple[str, ...] = field(default=())


def to_halfwidth(value: str) -> str:
    """Turn full-width ASCII forms (１３８, ＡＢＣ, ＠) and the ideographic space into ASCII."""
    return value.translate(_HALFWIDTH)


def compact(value: str) -> str:
    """Convert full-width forms, drop all whitespace and dashes, upper-case: an identifier."""
    return _SEPARATORS_RE.sub("", to_halfwidth(value)).upper()


def compact_mobile(value: str) -> str:
    """Compact a mobile number and drop a leading +86 / 0086 country prefix."""
    return _MOBILE_PREFIX_RE.sub("", compact(value))


def _plausible_birth_date(number: str) -> datetime.date | None:
    """Birth date encoded at positions 7-14, if it is a real date in the accepted range."""
    try:
        birth = ric.get_birth_date(number)
    except (ValueError, ValidationError):
        return None
    if birth.year < EARLIEST_BIRTH_YEAR or birth > datetime.date.today():
        return None
    return birth


@functools.lru_cache(maxsize=4096)
def _area_lookup(area_code: str) -> tuple[bool, str | None] | None:
    """Area name for a 6-digit code from stdnum's table; None if the table is unavailable."""
    try:
        from stdnum import numdb

        parts = numdb.get("cn/loc").info(area_code)
    except (ImportError, OSError, LookupError):
        return None
    merged: dict[str, str] = {}
    for _part, props in parts:
        merged.update(props)
    county = merged.get("county")
    if county is None:
        return False, None
    # Historic names are stored as "[1986-2010]name,[2011-]other"; keep the newest one.
    newest = county.split(",")[-1]
    if newest.startswith("[") and "]" in newest:
        newest = newest.split("]", 1)[1]
    return True, merged.get("province", "") + newest


def resident_id_info(value: str) -> ResidentIdInfo | None:
    """Decode a resident ID number (check character and birth date must be valid), else None."""
    if not isinstance(value, str):
        return None
    number = compact(value)
    if not _RESIDENT_ID_RE.fullmatch(number):
        return None
    if ric.calc_check_digit(number) != number[-1]:
        return None
    birth = _plausible_birth_date(number)
    if birth is None:
        return None
    area_code = number[:6]
    lookup = _area_lookup(area_code)
    warnings: tuple[str, ...]
    if lookup is None:
        area_known, area_name, warnings = False, None, (WARNING_AREA_LOOKUP_UNAVAILABLE,)
    else:
        area_known, area_name = lookup
        warnings = () if area_known else (WARNING_UNKNOWN_AREA,)
    return ResidentIdInfo(
        number=number,
        area_code=area_code,
        birth_date=birth,
        sex="M" if int(number[16]) % 2 == 1 else "F",
        area_known=area_known,
        area_name=area_name,
        warnings=warnings,
    )


def is_resident_id(value: str) -> bool:
    """True for an 18-character resident ID with a valid check character and birth date."""
    return resident_id_info(value) is not None


def is_uscc(value: str) -> bool:
    """True for a unified social credit code (统一社会信用代码) with a valid check character."""
    number = compact(value)
    return bool(_USCC_RE.fullmatch(number)) and uscc.is_valid(number)


def is_mobile(value: str) -> bool:
    """True for a mainland mobile number, with or without +86 / 0086, spaces or dashes."""
    return bool(_MOBILE_RE.fullmatch(compact_mobile(value)))


def _looks_like_resident_id(number: str) -> bool:
    """An 18-digit string shaped like a resident ID (area, birth date), whatever its check."""
    return (
        len(number) == 18 and number[0] in "12345678" and _plausible_birth_date(number) is not None
    )


def is_bank_card(value: str) -> bool:
    """True for a 16-19 digit card number from a plausible issuer that passes Luhn."""
    number = compact(value)
    if not _BANK_CARD_RE.fullmatch(number) or not luhn.is_valid(number):
        return False
    # A mistyped resident ID passes Luhn one time in ten; do not report it as a card.
    return not _looks_like_resident_id(number)


def is_email(value: str) -> bool:
    """True for an e-mail address in the common dot-atom form (a subset of RFC 5322)."""
    text = to_halfwidth(value.strip())
    if len(text) > 254 or "@" not in text or len(text.rsplit("@", 1)[0]) > 64:
        return False
    return bool(_EMAIL_RE.fullmatch(text))


def is_plate(value: str) -> bool:
    """True for a licence plate: province, issuing letter, 5 (ordinary) or 6 (new-energy)."""
    return bool(_PLATE_RE.fullmatch(to_halfwidth(value.strip()).upper()))


def is_name(value: str) -> bool:
    """True for a likely personal name: common surname + given name, or a ·-joined name."""
    text = value.strip()
    if not text or text[-1] in NAME_STOP_SUFFIXES:
        return False
    if _HAN_NAME_RE.fullmatch(text):
        if text[:2] in COMPOUND_SURNAMES and len(text) in (3, 4):
            return True
        return text[0] in SINGLE_SURNAMES
    if _ETHNIC_NAME_RE.fullmatch(text):
        return not any(part[-1] in NAME_STOP_SUFFIXES for part in _MIDDLE_DOT_RE.split(text))
    return False


def is_address(value: str) -> bool:
    """True for a Chinese address: an admin division followed by street-level detail."""
    text = value.strip()
    if not ADDRESS_MIN_LENGTH <= len(text) <= ADDRESS_MAX_LENGTH:
        return False
    return _ADDRESS_RE.search(text) is not None


# Order matters: an 18-digit resident ID or an 11-digit mobile must not be read as a
# card number, and a USCC can be all digits.
_DETECTORS = (
    (RESIDENT_ID, is_resident_id),
    (USCC, is_uscc),
    (MOBILE, is_mobile),
    (BANK_CARD, is_bank_card),
    (EMAIL, is_email),
    (PLATE, is_plate),
    (NAME, is_name),
    (ADDRESS, is_address),
)


def detect(value: str) -> str | None:
    """Category of personal information in ``value`` (one of CATEGORIES), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    for category, check in _DETECTORS:
        if check(text):
            return category
    return None

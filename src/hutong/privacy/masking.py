"""脱敏: masking and keyed pseudonymization of personal information.

Masking follows the common conventions listed in DOMAIN.md ("Personal information").
Pseudonyms use a per-consumer key, so two consumers holding the same dataset cannot
join their copies on the pseudonymized column (GB/T 37964-2019).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import TYPE_CHECKING

from hutong.privacy.detect import (
    ADDRESS,
    BANK_CARD,
    CATEGORIES,
    EMAIL,
    MOBILE,
    NAME,
    PLATE,
    RESIDENT_ID,
    USCC,
    compact,
    compact_mobile,
    to_halfwidth,
)

if TYPE_CHECKING:
    import pyarrow as pa

MASK_CHAR = "*"
ADDRESS_MASK = "****"
EMAIL_LOCAL_MASK = "***"
PSEUDONYM_PREFIX = "ps_"
PSEUDONYM_BYTES = 15  # 120 bits: 24 base32 characters, no padding
MIN_KEY_BYTES = 16

# Identifiers masked by keeping a prefix and a suffix of the compacted value.
KEEP_PREFIX_SUFFIX: dict[str, tuple[int, int]] = {
    RESIDENT_ID: (6, 4),
    MOBILE: (3, 4),
    BANK_CARD: (4, 4),
    USCC: (8, 2),
}
# Below this many hidden characters a prefix/suffix mask reveals too much: hide it all.
MIN_HIDDEN = 4

_MIDDLE_DOTS = "\u00b7\u2022\u2027\u30fb"
# One administrative level: a place name, then its level marker. A name containing a
# street-level marker (路, 号, ...) means the administrative prefix has ended.
_ADMIN_LEVEL_RE = re.compile(r"[^省市区县旗路街弄号村巷镇乡道室幢栋0-9]{1,15}?(?:省|市|区|县|旗)")
_PROVINCE_LEVEL_SUFFIXES = ("省", "自治区", "特别行政区")
_COUNTY_LEVEL_SUFFIXES = ("区", "县", "旗")
# Places called 区 that are below the district: keeping them would reveal the detail.
# fmt: off
_NON_ADMIN_QU_SUFFIXES = (
    "小区", "社区", "园区", "校区", "景区", "厂区", "街区", "片区", "营区", "住宅区", "商业区",
)
# fmt: on
_MAX_CITY_LEVELS = 2  # prefecture-level city, then a county-level city (苏州市昆山市)
# ASCII characters that Python's str.isspace() accepts, plus the dash: pyarrow's RE2
# "\s" differs, so the fast path spells them out to stay equal to ``compact``.
_SEPARATORS_ARROW = r"[\t\n\x0b\x0c\r\x1c-\x1f \-]"
_PLATE_SEPARATORS_RE = re.compile(r"[·•.\s\-]")


def _check_category(category: str) -> None:
    """Raise ValueError for a category this module does not know."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown personal-information category: {category!r}")


def _keep_ends(text: str, prefix: int, suffix: int) -> str:
    """Keep ``prefix`` and ``suffix`` characters, one mask character per hidden one."""
    hidden = len(text) - prefix - suffix
    if hidden < MIN_HIDDEN:
        return MASK_CHAR * len(text)
    return text[:prefix] + MASK_CHAR * hidden + text[len(text) - suffix :]


def _mask_name(text: str) -> str:
    """张三丰 -> 张**; the dot of a ·-joined name stays visible."""
    if len(text) < 2:
        return MASK_CHAR * len(text)
    return text[0] + "".join(c if c in _MIDDLE_DOTS else MASK_CHAR for c in text[1:])


def _admin_prefix_end(text: str) -> int:
    """Length of the administrative prefix (province, city, district or county) of an address."""
    end = 0
    cities = 0
    position = 0
    while match := _ADMIN_LEVEL_RE.match(text, position):
        level = match.group()
        if level.endswith(_NON_ADMIN_QU_SUFFIXES):
            break
        position = end = match.end()
        if level.endswith(_PROVINCE_LEVEL_SUFFIXES):
            if cities:
                break
            continue
        if level.endswith(_COUNTY_LEVEL_SUFFIXES):
            break
        cities += 1
        if cities == _MAX_CITY_LEVELS:
            break
    return end


def _mask_address(text: str) -> str:
    """Keep the administrative prefix up to the district or county, hide the rest."""
    end = _admin_prefix_end(text)
    if end == len(text):
        return text
    return text[:end] + ADDRESS_MASK


def _mask_email(text: str) -> str:
    """zhang@example.com -> z***@example.com; without a usable @ hide everything."""
    local, at, domain = to_halfwidth(text).rpartition("@")
    if not at or not local or not domain:
        return MASK_CHAR * len(text)
    return local[0] + EMAIL_LOCAL_MASK + "@" + domain


def _mask_plate(text: str) -> str:
    """沪A12345 -> 沪A****5: province, issuing letter and the last character stay."""
    plate = _PLATE_SEPARATORS_RE.sub("", to_halfwidth(text)).upper()
    if len(plate) < 5:
        return MASK_CHAR * len(plate)
    return plate[:2] + MASK_CHAR * (len(plate) - 3) + plate[-1]


def mask(value: str | None, category: str) -> str | None:
    """Mask ``value`` as ``category`` (None stays None); raises ValueError on an unknown one."""
    _check_category(category)
    if value is None:
        return None
    if category in KEEP_PREFIX_SUFFIX:
        prefix, suffix = KEEP_PREFIX_SUFFIX[category]
        text = compact_mobile(value) if category == MOBILE else compact(value)
        return _keep_ends(text, prefix, suffix)
    text = value.strip()
    if category == NAME:
        return _mask_name(text)
    if category == ADDRESS:
        return _mask_address(text)
    if category == EMAIL:
        return _mask_email(text)
    if category == PLATE:
        return _mask_plate(text)
    raise AssertionError(f"no masking rule for {category}")  # pragma: no cover


def normalize(value: str, category: str) -> str:
    """Canonical form used for pseudonyms, so '138 1234 5678' and '13812345678' agree."""
    _check_category(category)
    if category == MOBILE:
        return compact_mobile(value)
    if category in (RESIDENT_ID, USCC, BANK_CARD):
        return compact(value)
    if category == PLATE:
        return _PLATE_SEPARATORS_RE.sub("", to_halfwidth(value)).upper()
    if category == EMAIL:
        return to_halfwidth(value.strip()).lower()
    if category == NAME:
        return re.sub(r"\s", "", value)
    return value.strip()


def pseudonymize(value: str, *, key: bytes, category: str) -> str:
    """Stable keyed token (HMAC-SHA256) for ``value``; raises ValueError on a short key."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"pseudonymization key must be at least {MIN_KEY_BYTES} bytes")
    # surrogatepass: a lone surrogate from a badly decoded file still gets a stable token
    message = f"{category}\x1f{normalize(value, category)}".encode("utf-8", "surrogatepass")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    token = base64.b32encode(digest[:PSEUDONYM_BYTES]).decode("ascii").lower()
    return PSEUDONYM_PREFIX + token


def mask_array(arr: pa.Array | pa.ChunkedArray, category: str) -> pa.Array | pa.ChunkedArray:
    """Mask a whole pyarrow string array; same result as ``mask`` on each element."""
    import pyarrow as pa
    import pyarrow.compute as pc

    _check_category(category)
    ascii_only = pc.all(pc.string_is_ascii(arr)).as_py() is not False
    if category not in KEEP_PREFIX_SUFFIX or not ascii_only:
        # Full-width digits and Han text need the Python rules; this is the slow path.
        masked = [mask(value, category) for value in arr.to_pylist()]
        if isinstance(arr, pa.ChunkedArray):
            return pa.chunked_array([pa.array(masked, type=arr.type)], type=arr.type)
        return pa.array(masked, type=arr.type)

    prefix, suffix = KEEP_PREFIX_SUFFIX[category]
    text = pc.replace_substring_regex(arr, pattern=_SEPARATORS_ARROW, replacement="")
    if category == MOBILE:
        text = pc.replace_substring_regex(text, pattern=r"^(?:\+86|0086)", replacement="")
    text = pc.ascii_upper(text)
    star = pa.scalar(MASK_CHAR, type=text.type)  # same string type for large_string arrays
    length = pc.utf8_length(text)
    hidden = pc.subtract(length, prefix + suffix)
    kept = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(text, start=0, stop=prefix),
        pc.binary_repeat(star, pc.max_element_wise(hidden, 0)),
        pc.utf8_slice_codeunits(text, start=-suffix),
        pa.scalar("", type=text.type),
    )
    everything = pc.binary_repeat(star, length)
    result = pc.if_else(pc.greater_equal(hidden, MIN_HIDDEN), kept, everything)
    return result.cast(arr.type)

"""Detection of personal information in single values."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric
from stdnum.cn import uscc as stdnum_uscc

from hutong.privacy import CATEGORIES, detect, resident_id_info
from hutong.privacy.detect import (
    COMPOUND_SURNAMES,
    SINGLE_SURNAMES,
    WARNING_UNKNOWN_AREA,
)

# Timings belong in benchmarks/, not in tests: no Hypothesis deadline.
NO_DEADLINE = settings(deadline=None)

AREA_CODES = ["310101", "310115", "320102", "330106", "340104"]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
TODAY = datetime.date.today()


def make_resident_id(area: str, birth: datetime.date, sequence: int) -> str:
    """An 18-character resident ID with a correct check character."""
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


resident_ids = st.builds(
    make_resident_id,
    st.sampled_from(AREA_CODES),
    st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999),
)


@st.composite
def usccs(draw: st.DrawFn) -> str:
    """A valid unified social credit code: '91310000' + 9 characters + check."""
    base = "91310000" + "".join(
        draw(st.lists(st.sampled_from(USCC_ALPHABET), min_size=9, max_size=9))
    )
    return base + stdnum_uscc.calc_check_digit(base)


@st.composite
def bank_cards(draw: st.DrawFn) -> str:
    """A Luhn-valid card number of 16, 17 or 19 digits from a plausible issuer."""
    prefix = draw(st.sampled_from(["62", "4", "51", "35"]))
    length = draw(st.sampled_from([16, 17, 19]))
    body = prefix + draw(
        st.text("0123456789", min_size=length - len(prefix) - 1, max_size=length - len(prefix) - 1)
    )
    return body + luhn.calc_check_digit(body)


mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@NO_DEADLINE
@given(resident_ids)
def test_valid_resident_ids_are_detected(number: str) -> None:
    assert detect(number) == "resident_id"


@NO_DEADLINE
@given(resident_ids, st.data())
def test_resident_id_with_altered_check_character_is_not_detected(
    number: str, data: st.DataObject
) -> None:
    wrong = data.draw(st.sampled_from([c for c in "0123456789X" if c != number[-1]]))
    assert detect(number[:-1] + wrong) != "resident_id"
    assert resident_id_info(number[:-1] + wrong) is None


@NO_DEADLINE
@given(resident_ids)
def test_resident_id_info_decodes_birth_date_and_sex(number: str) -> None:
    info = resident_id_info(number)
    assert info is not None
    assert info.area_code == number[:6]
    assert info.birth_date == datetime.date(
        int(number[6:10]), int(number[10:12]), int(number[12:14])
    )
    assert info.sex == ("M" if int(number[16]) % 2 else "F")
    assert info.area_known


def test_resident_id_with_area_code_newer_than_birth_is_still_a_resident_id() -> None:
    # 浦东新区 (310115) was created in 1992; people born earlier carry it on reissued cards.
    number = make_resident_id("310115", datetime.date(1960, 5, 4), 123)
    assert not ric.is_valid(number)
    assert detect(number) == "resident_id"


def test_unknown_area_code_is_a_warning_not_a_rejection() -> None:
    number = make_resident_id("990101", datetime.date(1990, 1, 1), 12)
    info = resident_id_info(number)
    assert detect(number) == "resident_id"
    assert info is not None
    assert info.area_known is False
    assert WARNING_UNKNOWN_AREA in info.warnings


def test_resident_id_accepts_lower_case_x_and_spaces() -> None:
    number = "11010519491231002X"
    assert detect(number.lower()) == "resident_id"
    assert detect(" 110105 19491231 002X ") == "resident_id"
    info = resident_id_info("110105194912310 02x")
    assert info is not None
    assert info.number == number
    assert info.sex == "F"
    assert info.area_name == "北京市朝阳区"


@pytest.mark.parametrize(
    "birth",
    [datetime.date(1879, 12, 31), TODAY + datetime.timedelta(days=1)],
    ids=["before-1880", "future"],
)
def test_resident_id_with_implausible_birth_date_is_rejected(birth: datetime.date) -> None:
    assert detect(make_resident_id("310101", birth, 1)) != "resident_id"


def test_resident_id_with_impossible_date_is_rejected() -> None:
    body = "31010119900230001"  # 30 February
    assert detect(body + ric.calc_check_digit(body + "0")) != "resident_id"


@NO_DEADLINE
@given(usccs())
def test_valid_usccs_are_detected(code: str) -> None:
    assert detect(code) == "uscc"


def test_uscc_with_wrong_check_character_is_not_detected() -> None:
    assert detect("91110000600037341L") == "uscc"
    assert detect("91110000600037341M") != "uscc"


@NO_DEADLINE
@given(bank_cards(), st.sampled_from(["", " ", "-"]))
def test_luhn_valid_card_numbers_are_detected(number: str, separator: str) -> None:
    grouped = separator.join(number[i : i + 4] for i in range(0, len(number), 4))
    assert detect(grouped) == "bank_card"


def test_card_number_failing_luhn_is_not_detected() -> None:
    assert detect("4111111111111111") == "bank_card"
    assert detect("4111111111111112") is None


def test_card_number_from_implausible_issuer_is_not_detected() -> None:
    body = "9" + "1" * 14
    assert detect(body + luhn.calc_check_digit(body)) is None


def test_resident_id_shaped_luhn_number_is_not_a_bank_card() -> None:
    # An ID with a wrong check character that happens to pass Luhn stays unclassified.
    for sequence in range(200):
        body = f"31010119900101{sequence:03d}"
        number = body + luhn.calc_check_digit(body)
        if number[-1] != ric.calc_check_digit(number):
            assert detect(number) is None
            return
    pytest.fail("no Luhn-valid, check-invalid ID found")


@NO_DEADLINE
@given(mobiles, st.sampled_from(["", "+86", "+86 ", "0086", "0086-"]), st.booleans())
def test_mobiles_are_detected_with_or_without_prefix(
    number: str, prefix: str, grouped: bool
) -> None:
    text = f"{number[:3]} {number[3:7]}-{number[7:]}" if grouped else number
    assert detect(prefix + text) == "mobile"


@pytest.mark.parametrize("value", ["12812345678", "1381234567", "138123456789", "02112345678"])
def test_non_mobiles_are_not_detected_as_mobile(value: str) -> None:
    assert detect(value) != "mobile"


def test_full_width_digits_are_understood() -> None:
    assert detect("１３８１２３４５６７８") == "mobile"


@pytest.mark.parametrize(
    "value",
    ["zhang.san@example.com", "li_si+tag@mail.gov.cn", "A1@x-y.org", " wang@example.com.cn "],
)
def test_emails_are_detected(value: str) -> None:
    assert detect(value) == "email"


@pytest.mark.parametrize(
    "value", ["zhang@", "@example.com", "zhang@example", "zhang..san@example.com", "a b@c.com"]
)
def test_malformed_emails_are_not_detected(value: str) -> None:
    assert detect(value) != "email"


@pytest.mark.parametrize(
    "value",
    ["沪A12345", "京AF1234", "粤B·12345", "苏E 5X7Z9", "沪AD12345", "浙A12345F", "沪a12345"],
)
def test_plates_are_detected(value: str) -> None:
    assert detect(value) == "plate"


@pytest.mark.parametrize(
    "value", ["沪12345", "沪A1234", "A12345", "沪AI2345", "沪A1234567", "港A12345"]
)
def test_non_plates_are_not_detected(value: str) -> None:
    assert detect(value) != "plate"


@pytest.mark.parametrize(
    "value",
    [
        "张三",
        "李小龙",
        "欧阳修",
        "诸葛孔明",
        "王二小",
        " 陈静 ",
        "阿依古丽·买买提",
        "爱新觉罗·溥仪",
    ],
)
def test_names_are_detected(value: str) -> None:
    assert detect(value) == "name"


@pytest.mark.parametrize(
    "value",
    [
        "上海市",
        "黄浦区",
        "江苏省",
        "公安局",
        "张",
        "张三丰李四",
        "张 三",
        "Zhang San",
        "中国",
        "发展改革委",
    ],
)
def test_non_names_are_not_detected(value: str) -> None:
    assert detect(value) != "name"


def test_surname_list_has_common_single_and_compound_surnames() -> None:
    assert {"王", "李", "张", "刘", "陈"} <= SINGLE_SURNAMES
    assert {"欧阳", "司马", "诸葛"} <= COMPOUND_SURNAMES
    assert 250 <= len(SINGLE_SURNAMES) + len(COMPOUND_SURNAMES) <= 500


@pytest.mark.parametrize(
    "value",
    [
        "上海市黄浦区南京东路100号",
        "浙江省杭州市西湖区文三路478号",
        "北京市朝阳区建国路88号3幢1201室",
        "江苏省苏州市昆山市玉山镇同丰村",
    ],
)
def test_addresses_are_detected(value: str) -> None:
    assert detect(value) == "address"


@pytest.mark.parametrize("value", ["上海市黄浦区", "南京东路100号", "市场部第1号文件", "路口"])
def test_non_addresses_are_not_detected(value: str) -> None:
    assert detect(value) != "address"


@pytest.mark.parametrize("value", ["", "   ", "hello world", "12345", "N/A", "-", "无"])
def test_ordinary_values_are_not_personal_information(value: str) -> None:
    assert detect(value) is None


@NO_DEADLINE
@given(st.text())
def test_detect_never_raises_on_any_text(value: str) -> None:
    assert detect(value) in (*CATEGORIES, None)
    resident_id_info(value)


@NO_DEADLINE
@given(st.text(alphabet="0123456789 -+Xx@.·沪A省市区路号张", max_size=25))
def test_detect_never_raises_on_identifier_like_text(value: str) -> None:
    assert detect(value) in (*CATEGORIES, None)


@NO_DEADLINE
@given(st.text())
def test_surrounding_whitespace_does_not_change_the_result(value: str) -> None:
    assert detect(f"  {value}\n") == detect(value.strip())

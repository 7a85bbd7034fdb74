"""Masking (脱敏) and keyed pseudonymization."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hutong.privacy import CATEGORIES, mask, mask_array, pseudonymize

# Timings belong in benchmarks/, not in tests: no Hypothesis deadline.
NO_DEADLINE = settings(deadline=None)

KEY_A = b"consumer-a-key-0123456789abcdef"
KEY_B = b"consumer-b-key-0123456789abcdef"


@pytest.mark.parametrize(
    ("value", "category", "expected"),
    [
        ("张三丰", "name", "张**"),
        ("张三", "name", "张*"),
        ("欧阳修", "name", "欧**"),
        ("阿依古丽·买买提", "name", "阿***·***"),
        ("王", "name", "*"),
        ("11010519491231002X", "resident_id", "110105********002X"),
        ("110105 19491231 002x", "resident_id", "110105********002X"),
        ("13812341234", "mobile", "138****1234"),
        ("+86 138-1234-1234", "mobile", "138****1234"),
        ("0086 13812341234", "mobile", "138****1234"),
        ("6222 0212 3456 7890", "bank_card", "6222********7890"),
        ("6222021234567890123", "bank_card", "6222***********0123"),
        ("zhang@example.com", "email", "z***@example.com"),
        ("z@example.com", "email", "z***@example.com"),
        ("沪A12345", "plate", "沪A****5"),
        ("沪A·D12345", "plate", "沪A*****5"),
        ("91110000600037341L", "uscc", "91110000********1L"),
        ("上海市黄浦区南京东路100号", "address", "上海市黄浦区****"),
        ("广东省深圳市南山区科技园路1号", "address", "广东省深圳市南山区****"),
        ("江苏省苏州市昆山市玉山镇同丰村", "address", "江苏省苏州市昆山市****"),
        (
            "新疆维吾尔自治区乌鲁木齐市天山区人民路1号",
            "address",
            "新疆维吾尔自治区乌鲁木齐市天山区****",
        ),
        ("上海市浦东新区世纪大道100号市民中心", "address", "上海市浦东新区****"),
        ("上海市人民广场小区3号", "address", "上海市****"),
        ("南京东路100号", "address", "****"),
    ],
)
def test_mask_follows_domain_conventions(value: str, category: str, expected: str) -> None:
    assert mask(value, category) == expected


@pytest.mark.parametrize("category", CATEGORIES)
def test_mask_keeps_none(category: str) -> None:
    assert mask(None, category) is None


@pytest.mark.parametrize(
    ("value", "category"), [("123", "mobile"), ("abc", "email"), ("沪A", "plate")]
)
def test_values_too_short_for_the_rule_are_hidden_entirely(value: str, category: str) -> None:
    masked = mask(value, category)
    assert masked is not None
    assert set(masked) == {"*"}


def test_mask_rejects_unknown_category() -> None:
    with pytest.raises(ValueError, match="unknown"):
        mask("x", "religion")


@NO_DEADLINE
@given(st.text(), st.sampled_from(CATEGORIES))
def test_mask_never_raises_and_never_returns_the_identifier(value: str, category: str) -> None:
    masked = mask(value, category)
    assert isinstance(masked, str)
    if category in ("resident_id", "mobile", "bank_card", "uscc") and masked:
        assert "*" in masked


@NO_DEADLINE
@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_masked_mobile_hides_the_middle_four_digits(number: str) -> None:
    assert mask(number, "mobile") == number[:3] + "****" + number[7:]


arrow_values = st.lists(
    st.one_of(
        st.none(),
        st.text(),
        st.text(alphabet="0123456789 -+X\t\x1c", max_size=24),
        st.from_regex(r"(\+86|0086)?1[3-9][0-9]{9}", fullmatch=True),
    ),
    max_size=20,
)


@NO_DEADLINE
@given(arrow_values, st.sampled_from(CATEGORIES))
def test_mask_array_equals_scalar_mask(values: list[str | None], category: str) -> None:
    masked = mask_array(pa.array(values, type=pa.string()), category)
    assert masked.to_pylist() == [mask(v, category) for v in values]


@pytest.mark.parametrize("category", ["resident_id", "mobile", "bank_card", "uscc", "name"])
def test_mask_array_keeps_array_kind_and_type(category: str) -> None:
    values = ["11010519491231002X", None, "13812341234", "１３８１２３４１２３４"]
    chunked = pa.chunked_array([values[:2], values[2:]], type=pa.large_string())
    masked = mask_array(chunked, category)
    assert isinstance(masked, pa.ChunkedArray)
    assert masked.type == pa.large_string()
    assert masked.to_pylist() == [mask(v, category) for v in values]


def test_pseudonym_is_stable_for_one_key_and_ignores_formatting() -> None:
    first = pseudonymize("13812341234", key=KEY_A, category="mobile")
    assert first == pseudonymize("+86 138-1234-1234", key=KEY_A, category="mobile")
    assert re.fullmatch(r"ps_[a-z2-7]{24}", first)


@NO_DEADLINE
@given(st.text())
def test_two_consumers_get_different_pseudonyms(value: str) -> None:
    token_a = pseudonymize(value, key=KEY_A, category="name")
    assert token_a == pseudonymize(value, key=KEY_A, category="name")
    assert token_a != pseudonymize(value, key=KEY_B, category="name")


def test_different_values_get_different_pseudonyms() -> None:
    tokens = {pseudonymize(f"1381234{n:04d}", key=KEY_A, category="mobile") for n in range(500)}
    assert len(tokens) == 500


def test_pseudonymize_rejects_a_short_key() -> None:
    with pytest.raises(ValueError, match="at least"):
        pseudonymize("张三", key=b"short", category="name")

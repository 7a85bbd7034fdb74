"""Column classification: proposals from values and headers."""

from __future__ import annotations

import itertools
import json

import pytest

from hutong.privacy import (
    PROPOSE_THRESHOLD,
    classify_column,
    classify_table,
    header_category,
    proposals_as_json,
)

MOBILES = [f"13{n % 10}1234{n:04d}" for n in range(30, 40)]
IDS = ["11010519491231002X", "110105194912310021"]  # the second has a wrong check digit


def test_column_of_mostly_mobiles_is_proposed_whatever_its_header() -> None:
    values = [*MOBILES[:9], "不详"]
    proposal = classify_column("备注", values)
    assert proposal.category == "mobile"
    assert proposal.confidence == pytest.approx(0.9)
    assert (proposal.checked, proposal.matched) == (10, 9)
    assert proposal.hint == ""


def test_empty_values_are_not_counted() -> None:
    proposal = classify_column("phone", [*MOBILES[:4], None, "", "  "])
    assert (proposal.checked, proposal.matched) == (4, 4)
    assert proposal.confidence == 1.0


def test_header_hint_lowers_the_threshold() -> None:
    values = [*MOBILES[:6], "021-1234567", "无", "见附件", "待补"]
    with_hint = classify_column("手机号码", values)
    without_hint = classify_column("备注", values)
    assert with_hint.category == "mobile"
    assert with_hint.hint == "column name suggests mobile"
    assert without_hint.category is None
    assert without_hint.candidate == "mobile"
    assert without_hint.confidence < PROPOSE_THRESHOLD


def test_header_alone_proposes_nothing() -> None:
    proposal = classify_column("身份证号", ["无", "不详", "", None])
    assert proposal.category is None
    assert proposal.header_category == "resident_id"
    assert proposal.matched == 0


def test_header_and_values_that_disagree_are_reported() -> None:
    proposal = classify_column("姓名", MOBILES)
    assert proposal.category == "mobile"
    assert proposal.hint == "column name suggests name, but values look like mobile"


def test_invalid_identifiers_lower_confidence() -> None:
    proposal = classify_column("sfzh", IDS * 5)
    assert proposal.confidence == pytest.approx(0.5)
    assert proposal.category == "resident_id"  # header agrees, so 0.5 is enough
    assert classify_column("code", IDS * 5).category is None


@pytest.mark.parametrize(
    ("header", "category"),
    [
        ("身份证号", "resident_id"),
        ("SFZH", "resident_id"),
        ("idCard", "resident_id"),
        ("id_card_no", "resident_id"),
        ("联系电话", "mobile"),
        ("mobilePhone", "mobile"),
        ("姓名", "name"),
        ("联系人", "name"),
        ("name", "name"),
        ("户籍地址", "address"),
        ("身份证地址", "address"),
        ("home_address", "address"),
        ("统一社会信用代码", "uscc"),
        ("tyshxydm", "uscc"),
        ("银行卡号", "bank_card"),
        ("bank_account", "bank_card"),
        ("电子邮箱", "email"),
        ("Email", "email"),
        ("车牌号码", "plate"),
        ("plate_no", "plate"),
        ("company_name", None),
        ("template", None),
        ("备注", None),
        ("", None),
    ],
)
def test_header_hints(header: str, category: str | None) -> None:
    assert header_category(header) == category


def test_sample_limits_the_values_examined() -> None:
    proposal = classify_column("phone", itertools.repeat("13812341234"), sample=50)
    assert proposal.checked == 50


def test_non_string_values_are_read_as_text() -> None:
    proposal = classify_column("手机", [13812341234, 13912341234, None])  # type: ignore[list-item]
    assert proposal.category == "mobile"


def test_sample_must_be_positive() -> None:
    with pytest.raises(ValueError, match="sample"):
        classify_column("x", [], sample=0)


def test_classify_table_keeps_column_order_and_serializes() -> None:
    proposals = classify_table(
        {
            "姓名": ["张三", "李四", "王小明", "赵六"],
            "联系电话": MOBILES[:4],
            "单位地址": ["上海市黄浦区南京东路100号", "浙江省杭州市西湖区文三路478号"],
            "备注": ["无", "已核实"],
            "空列": [],
        }
    )
    assert [p.column for p in proposals] == ["姓名", "联系电话", "单位地址", "备注", "空列"]
    assert [p.category for p in proposals] == ["name", "mobile", "address", None, None]
    rows = proposals_as_json(proposals)
    assert json.loads(json.dumps(rows, ensure_ascii=False)) == rows
    assert rows[0] == {
        "column": "姓名",
        "category": "name",
        "confidence": 1.0,
        "checked": 4,
        "matched": 4,
        "hint": "column name suggests name",
        "candidate": "name",
        "header_category": "name",
    }


def test_confidence_is_rounded_in_json() -> None:
    proposal = classify_column("phone", [*MOBILES[:2], "x"])
    assert proposals_as_json([proposal])[0]["confidence"] == 0.6667

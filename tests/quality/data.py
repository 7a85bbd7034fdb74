"""Crafted data for the quality tests: 30 rows whose failures per rule are known."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from stdnum import luhn
from stdnum.cn import ric
from stdnum.cn import uscc as stdnum_uscc

from tests.factories import make_uscc

ROWS = 30
DISTRICTS = ["黄浦区", "徐汇区", "长宁区", "静安区"]
FIELDS: list[dict[str, Any]] = [
    {"name": "pid", "label": "编号", "type": "string", "key": True},
    {"name": "name", "label": "姓名", "type": "string", "pi_category": "name"},
    {"name": "resident_id", "label": "身份证号", "type": "string", "pi_category": "resident_id"},
    {"name": "sex", "label": "性别", "type": "string"},
    {"name": "birth_date", "label": "出生日期", "type": "date"},
    {"name": "mobile", "label": "手机", "type": "string", "pi_category": "mobile"},
    {"name": "uscc", "label": "信用代码", "type": "string"},
    {"name": "card", "label": "银行卡", "type": "string", "pi_category": "bank_card"},
    {"name": "age", "label": "年龄", "type": "integer"},
    {"name": "amount", "label": "金额", "type": "decimal"},
    {"name": "district", "label": "区", "type": "string"},
    {"name": "code_text", "label": "代码", "type": "string"},
    {"name": "updated", "label": "更新日期", "type": "date"},
    {"name": "start_date", "label": "开始", "type": "date"},
    {"name": "end_date", "label": "结束", "type": "date"},
]


def resident_id(birth: dt.date, seq: int) -> str:
    base = f"110105{birth:%Y%m%d}{seq:03d}"
    return base + ric.calc_check_digit(base + "0")


def card(i: int) -> str:
    base = f"622202{i:09d}"
    return base + luhn.calc_check_digit(base)


def rows(today: dt.date | None = None) -> list[dict[str, Any]]:
    """The crafted rows; comments name the rules each breaks."""
    today = today or dt.date.today()
    out = []
    usccs = [make_uscc(9000 + i, prefix="91310000") for i in range(ROWS)]
    for i in range(ROWS):
        birth = dt.date(1980, 1, 1) + dt.timedelta(days=37 * i)
        seq = 100 + i
        rid = resident_id(birth, seq)
        if i in (1, 2):  # check_digit resident_id: 2 fail
            rid = rid[:-1] + ("0" if rid[-1] != "0" else "1")
        male = seq % 2 == 1
        row = {
            "pid": f"P{i:03d}",
            "name": None if i in (3, 7) else f"张{'三四五'[i % 3]}",  # not_null name: 2
            "resident_id": None if i == 5 else rid,
            "sex": ("男" if male else "女") if i != 10 else ("女" if male else "男"),  # sex: 1
            "birth_date": (
                birth if i not in (11, 12) else birth + dt.timedelta(days=1)
            ).isoformat(),
            "mobile": "12345" if i in (4, 8, 9) else f"139{i:08d}",  # pattern / length: 3
            "uscc": usccs[i] if i != 6 else usccs[i][:-1] + ("0" if usccs[i][-1] != "0" else "1"),
            "card": card(i)
            if i not in (13, 14)
            else card(i)[:-1] + str((int(card(i)[-1]) + 1) % 10),
            "age": i * 5,  # range 0..120: 25..29 fail: 5
            "amount": f"{i - 2}.50",  # range min 0: i=0,1 fail: 2
            "district": "火星区" if i in (15, 16, 17) else DISTRICTS[i % 4],  # allowed: 3
            "code_text": "x1" if i == 18 else str(i),  # type integer: 1
            "updated": (today - dt.timedelta(days=20 * i)).isoformat(),  # within 365 d: 11 fail
            "start_date": "2024-01-10",
            "end_date": "2024-01-01" if i in (20, 21) else "2024-02-01",  # compare: 2
        }
        out.append(row)
    out[23]["uscc"] = out[22]["uscc"]  # unique uscc: 1 duplicate
    assert stdnum_uscc.is_valid(out[22]["uscc"])
    return out


EXPECTED = {
    "nn": 2,
    "uq": 1,
    "mob": 3,
    "dist": 3,
    "dist-ref": 3,
    "age": 5,
    "amt": 2,
    "len": 3,
    "typ": 1,
    "ric": 2,
    "uscc": 1,
    "card": 2,
    "cons": 3,
    "cmp": 2,
    "ref": 3,
    "fresh": 11,
    "rows": 0,
    "late": 0,
    "sql": 3,
}

RULES_YAML = """\
policy: reject
cadence_hours: 24
rules:
  - id: nn
    kind: not_null
    columns: [pid, name]
  - id: uq
    kind: unique
    columns: [uscc]
  - id: mob
    kind: pattern
    column: mobile
    pattern: '1[3-9][0-9]{9}'
  - id: dist
    kind: allowed_values
    column: district
    values: [黄浦区, 徐汇区, 长宁区, 静安区]
  - id: dist-ref
    kind: allowed_values
    column: district
    reference: {resource: "REF", column: name}
  - id: age
    kind: range
    column: age
    min: 0
    max: 120
  - id: amt
    kind: range
    column: amount
    min: 0
  - id: len
    kind: length
    column: mobile
    min: 11
    max: 11
  - id: typ
    kind: type
    column: code_text
    type: integer
  - id: ric
    kind: check_digit
    column: resident_id
    scheme: resident_id
  - id: uscc
    kind: check_digit
    column: uscc
    scheme: uscc
  - id: card
    kind: check_digit
    column: card
    scheme: bank_card
  - id: cons
    kind: resident_id_consistency
    column: resident_id
    birth_date: birth_date
    sex: sex
  - id: cmp
    kind: field_compare
    left: start_date
    op: "<="
    right: end_date
  - id: ref
    kind: reference
    column: district
    resource: "REF"
    ref_column: name
  - id: fresh
    kind: timeliness
    column: updated
    max_age_days: 365
  - id: rows
    kind: row_count
    min: 1
  - id: late
    kind: timeliness
  - id: sql
    kind: custom_sql
    sql: SELECT pid, age FROM data WHERE age > 130
"""

REF_FIELDS = [{"name": "name", "label": "区名", "type": "string", "key": True}]


def write_csv(path: Path, data: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[f["name"] for f in FIELDS])
        writer.writeheader()
        for row in data:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return path

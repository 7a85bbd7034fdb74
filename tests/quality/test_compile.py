"""Check digits in SQL agree with python-stdnum, on the test backend and on DuckDB."""

from __future__ import annotations

import datetime as dt
import random

import duckdb
import pytest
from faker import Faker
from sqlalchemy import text
from stdnum import luhn
from stdnum.cn import uscc

from hutong.privacy.detect import resident_id_info
from hutong.quality.compile import Dialect, luhn_valid, resident_id_valid, uscc_valid
from hutong.quality.evaluate import prepare_connection, sql_text

TODAY = dt.date.today()


def _resident_ids(rng: random.Random) -> list[str]:
    fake = Faker("zh_CN")
    fake.seed_instance(7)
    good = [fake.ssn() for _ in range(400)]
    return [
        *good,
        *(v[:-1] + rng.choice("0123456789Xx") for v in good[:300]),  # check character
        *(v[:10] + "0229" + v[14:] for v in good[:100]),  # 29 February, leap or not
        *(v[:10] + "1301" + v[14:] for v in good[:50]),  # month 13
        *(v[:6] + "1850" + v[10:] for v in good[:50]),  # born before 1880
        *(v[:6] + str(TODAY.year + 1) + v[10:] for v in good[:50]),  # born in the future
        "",
        "abc",
        "1" * 19,
        "11010519491231002x",
        "１１０１０５１９４９１２３１００２Ｘ",
    ]


def _stdnum_truth(scheme: str, value: str) -> bool:
    if scheme == "resident_id":
        return len(value) == 18 and value.isascii() and resident_id_info(value.upper()) is not None
    if scheme == "uscc":
        return uscc.is_valid(value) and len(value) == 18 and value == value.upper()
    return 16 <= len(value) <= 19 and value.isdigit() and value.isascii() and luhn.is_valid(value)


def _values(scheme: str) -> list[str]:
    rng = random.Random(scheme)
    if scheme == "resident_id":
        return _resident_ids(rng)
    if scheme == "uscc":
        out = []
        for _ in range(800):
            body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(
                rng.choice(uscc._alphabet) for _ in range(9)
            )
            good = body + uscc.calc_check_digit(body)
            out.append(good if rng.random() < 0.6 else body + rng.choice(uscc._alphabet))
        return [*out, "I" * 18, "91310000MA1FL0000Z", "", "91310000ma1fl0000z"]
    cards = []
    for _ in range(800):
        body = "".join(rng.choice("0123456789") for _ in range(rng.randint(13, 19)))
        cards.append(body + (luhn.calc_check_digit(body) if rng.random() < 0.5 else "0"))
    return [*cards, "", "4111 1111 1111 1111", "41111111111111a1"]


def _expression(scheme: str, dialect: Dialect) -> str:
    if scheme == "resident_id":
        return resident_id_valid(dialect, "v", TODAY)
    if scheme == "uscc":
        return uscc_valid(dialect, "v")
    return luhn_valid(dialect, "v")


@pytest.mark.parametrize("scheme", ["resident_id", "uscc", "bank_card"])
def test_check_digits_agree_with_stdnum(db, scheme):
    values = _values(scheme)
    truth = [_stdnum_truth(scheme, v) for v in values]
    assert 0 < sum(truth) < len(truth)
    with db.session_scope() as s:
        dialect = prepare_connection(s)
        s.execute(text("CREATE TEMPORARY TABLE ck (n INTEGER, v TEXT)"))
        s.execute(
            text("INSERT INTO ck (n, v) VALUES (:n, :v)"),
            [{"n": i, "v": v} for i, v in enumerate(values)],
        )
        rows = s.execute(sql_text(f"SELECT n, {_expression(scheme, dialect)} FROM ck ORDER BY n"))
        in_db = [bool(r[1]) for r in rows]
    assert in_db == truth
    con = duckdb.connect()
    con.execute("CREATE TABLE ck (n INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO ck VALUES (?, ?)", list(enumerate(values)))
    relation = con.sql(f"SELECT n, {_expression(scheme, Dialect('duckdb'))} FROM ck ORDER BY n")
    assert relation is not None
    assert [bool(r[1]) for r in relation.fetchall()] == truth

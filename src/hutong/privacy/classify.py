"""Column classification: propose a personal-information category for a table column.

A proposal rests on the values (share detected as one category) and is helped by the
column header (身份证号, sjhm, mobile, ...). A data steward confirms or rejects it.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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
    detect,
)

PROPOSE_THRESHOLD = 0.8  # share of values that alone justifies a proposal
HINT_THRESHOLD = 0.5  # lower share accepted when the column header agrees
DEFAULT_SAMPLE = 1000  # non-empty values examined per column

# Header words per category. Chinese words match as substrings, checked in this order so
# that "身份证地址" is an address and "联系人电话" a phone number, not a name. Latin words
# (with pinyin initials) match as whole tokens, the longest match winning.
HEADER_HINTS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        USCC,
        ("统一社会信用代码", "社会信用代码", "信用代码"),
        ("uscc", "tyshxydm", "shxydm", "credit_code", "social_credit_code"),
    ),
    (
        BANK_CARD,
        ("银行卡", "卡号", "银行账号", "银行帐号"),
        ("bank", "bank_card", "bank_card_no", "card_no", "card_number", "yhkh", "yhzh"),
    ),
    (EMAIL, ("邮箱", "电子邮件", "电子邮箱", "邮件"), ("email", "e_mail", "mail", "dzyx")),
    (
        ADDRESS,
        ("地址", "住址", "住所", "居住地", "户籍地"),
        ("address", "addr", "dz", "zz", "jzdz", "hjdz"),
    ),
    (
        RESIDENT_ID,
        ("身份证", "公民身份号码", "证件号"),
        ("sfzh", "sfzhm", "sfz", "idcard", "id_card", "id_card_no", "citizen_id", "resident_id"),
    ),
    (
        MOBILE,
        ("手机", "电话", "联系方式", "移动电话"),
        ("mobile", "phone", "tel", "telephone", "cellphone", "sjh", "sjhm", "lxdh", "dh"),
    ),
    (PLATE, ("车牌", "号牌"), ("plate", "plate_no", "license_plate", "cph", "hphm")),
    (
        NAME,
        ("姓名", "联系人", "负责人", "法定代表人", "法人代表", "户主"),
        ("name", "full_name", "real_name", "realname", "person_name", "xm", "xingming"),
    ),
)
# Latin header tokens saying "name" means a thing, not a person (company_name, filename).
# fmt: off
_NOT_PERSON_TOKENS = frozenset({
    "company", "org", "organization", "unit", "dept", "department", "file", "user",
    "product", "table", "column", "field", "display", "nick", "host", "domain", "item",
})
# fmt: on

_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_ALNUM_RE = re.compile(r"[^a-z0-9]+")


@dataclass
class ColumnProposal:
    """Proposed personal-information category of one column, with its evidence."""

    column: str
    category: str | None
    confidence: float
    checked: int
    matched: int
    hint: str
    candidate: str | None = None
    header_category: str | None = None


def _header_tokens(name: str) -> str:
    """'custIdCard-No' -> '_cust_id_card_no_', so tokens match only at word boundaries."""
    spaced = _CAMEL_RE.sub("_", name).lower()
    return "_" + _NON_ALNUM_RE.sub("_", spaced).strip("_") + "_"


def header_category(name: str) -> str | None:
    """Category a column header suggests (身份证号 -> resident_id), or None."""
    for category, han_words, _latin_words in HEADER_HINTS:
        if any(word in name for word in han_words):
            return category
    tokens = _header_tokens(name)
    person_name_allowed = not set(tokens.strip("_").split("_")) & _NOT_PERSON_TOKENS
    best: tuple[int, str] | None = None
    for category, _han_words, latin_words in HEADER_HINTS:
        if category == NAME and not person_name_allowed:
            continue
        for word in latin_words:
            # The longest matching word wins: "id_card_no" beats the card number "card_no".
            if f"_{word}_" in tokens and (best is None or len(word) > best[0]):
                best = (len(word), category)
    return best[1] if best else None


def _sample(values: Iterable[Any], sample: int) -> list[str]:
    """Up to ``sample`` non-empty values as stripped strings, in order."""
    taken: list[str] = []
    for value in values:
        if value is None:
            continue
        text = (value if isinstance(value, str) else str(value)).strip()
        if text:
            taken.append(text)
            if len(taken) >= sample:
                break
    return taken


def _hint_text(suggested: str | None, candidate: str | None, proposed: str | None) -> str:
    """Human-readable note on what the header says and whether the values agree."""
    if suggested is None:
        return ""
    text = f"column name suggests {suggested}"
    if candidate is not None and candidate != suggested:
        text += f", but values look like {candidate}"
    elif proposed is None and candidate == suggested:
        text += ", too few values agree"
    return text


def classify_column(
    name: str, values: Iterable[str | None], *, sample: int = DEFAULT_SAMPLE
) -> ColumnProposal:
    """Propose a category for a column from its header and a sample of its values."""
    if sample < 1:
        raise ValueError("sample must be at least 1")
    suggested = header_category(name)
    texts = _sample(values, sample)
    counts = Counter(category for category in map(detect, texts) if category is not None)
    candidate: str | None = None
    matched = 0
    if counts:
        # Ties go to the header's category, then to the fixed order of CATEGORIES.
        candidate = max(
            counts,
            key=lambda c: (counts[c], c == suggested, -CATEGORIES.index(c)),
        )
        matched = counts[candidate]
    checked = len(texts)
    confidence = matched / checked if checked else 0.0
    proposed: str | None = None
    if candidate is not None and (
        confidence >= PROPOSE_THRESHOLD or (candidate == suggested and confidence >= HINT_THRESHOLD)
    ):
        proposed = candidate
    return ColumnProposal(
        column=name,
        category=proposed,
        confidence=confidence,
        checked=checked,
        matched=matched,
        hint=_hint_text(suggested, candidate, proposed),
        candidate=candidate,
        header_category=suggested,
    )


def classify_table(
    columns: dict[str, Iterable[Any]], *, sample: int = DEFAULT_SAMPLE
) -> list[ColumnProposal]:
    """Proposals for every column of a table given as {header: values}, in column order."""
    return [classify_column(name, values, sample=sample) for name, values in columns.items()]


def proposals_as_json(proposals: list[ColumnProposal]) -> list[dict[str, Any]]:
    """JSON-ready dicts of proposals (confidence rounded to 4 places)."""
    rows = []
    for proposal in proposals:
        row = dataclasses.asdict(proposal)
        row["confidence"] = round(proposal.confidence, 4)
        rows.append(row)
    return rows

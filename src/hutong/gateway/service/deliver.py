"""Delivering granted fields: clear, masked (脱敏) or as a per-consumer pseudonym.

One value at a time for query pages (``deliver_value``), a whole Arrow batch at a time for
bulk snapshots (``deliver_batch``); both give the same result for the same value, which a
test checks. The batch path keeps Python out of the per-row work:

- resident ID, mobile, bank card, credit code: ``mask_identifiers`` below (one byte-slice
  replacement when the batch is plain ASCII of one length, else
  ``privacy.masking.mask_array``);
- names: ``mask_names`` below, the rule of ``privacy.masking.mask`` in pyarrow compute
  (``mask_array`` still masks names one value at a time in Python);
- address, e-mail, plate, and pseudonyms: Python once per *distinct* value of the batch
  (dictionary-encode, transform the dictionary, take), since their rules are not
  expressible in pyarrow compute; a batch of unique values still costs one call each.

Fields without a personal-information category carry nothing to mask: ``masked`` delivers
them as they are. A pseudonym of such a field is keyed the same way as the others; a
non-text value is pseudonymized (or masked) as its canonical text (``text_of``).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.datastore.convert import arrow_type
from hutong.privacy import masking
from hutong.privacy.detect import MOBILE, NAME
from hutong.sharing.schemas import Delivery

PSEUDONYM_KEY_CONTEXT = b"pseudonym:"
GENERIC_PSEUDONYM_CONTEXT = "value"
# What str.strip() removes (str.isspace(); none lies above U+3000, a test checks).
PYTHON_SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
NAME_DOTS = "\u00b7\u2022\u2027\u30fb"  # the dots of ·-joined names stay visible
STAR_RUNS_MAX = 256  # names up to this long are masked from a table of star runs


def pseudonym_key(*, subject_secret: bytes, consumer_org_id: str) -> bytes:
    """The consumer's pseudonym key: HMAC-SHA256(node subject secret, 'pseudonym:' + org id)."""
    message = PSEUDONYM_KEY_CONTEXT + consumer_org_id.encode("utf-8")
    return hmac.new(subject_secret, message, hashlib.sha256).digest()


def pseudonym(text: str, *, key: bytes, category: str | None) -> str:
    """The keyed token of a value: ``privacy.masking.pseudonymize`` for a PI category."""
    if category is not None:
        return masking.pseudonymize(text, key=key, category=category)
    message = f"{GENERIC_PSEUDONYM_CONTEXT}\x1f{text.strip()}".encode("utf-8", "surrogatepass")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    token = base64.b32encode(digest[: masking.PSEUDONYM_BYTES]).decode("ascii").lower()
    return masking.PSEUDONYM_PREFIX + token


def category_of(spec: FieldSpec) -> str | None:
    return spec.pi_category.value if spec.pi_category is not None else None


def changes(spec: FieldSpec, delivery: Delivery) -> bool:
    """True if the delivered value differs from the stored one (masked PI, or pseudonym)."""
    if delivery == Delivery.pseudonym:
        return True
    return delivery == Delivery.masked and spec.pi_category is not None


def text_of(value: Any, field_type: FieldType) -> str:
    """The text a value is masked or pseudonymized as: the same for a query page's JSON
    value and a bulk batch's Arrow value, on either database."""
    if field_type == FieldType.decimal:
        return format(decimal.Decimal(str(value)).normalize(), "f")
    if field_type == FieldType.datetime:
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).isoformat()
    if field_type == FieldType.date and isinstance(value, dt.date):
        return value.isoformat()
    if field_type == FieldType.boolean:
        return "true" if value is True or str(value).lower() == "true" else "false"
    return str(value)


def _transform(spec: FieldSpec, delivery: Delivery, key: bytes) -> Callable[[str], str]:
    category = category_of(spec)
    if delivery == Delivery.pseudonym:
        return lambda text: pseudonym(text, key=key, category=category)
    assert category is not None
    return lambda text: masking.mask(text, category)  # type: ignore[return-value]


def deliver_value(value: Any, spec: FieldSpec, delivery: Delivery, *, key: bytes) -> Any:
    """One value as delivered (None stays None)."""
    if value is None or not changes(spec, delivery):
        return value
    return _transform(spec, delivery, key)(text_of(value, spec.type))


def _text_bytes(values: pa.Array) -> bytes:
    """The UTF-8 bytes of a string array's values, end to end (one copy)."""
    data = values.buffers()[2]
    if data is None or len(values) == 0:
        return b""
    offsets = pa.Array.from_buffers(
        pa.int32(), len(values) + 1, [None, values.buffers()[1]], offset=values.offset
    )
    start, end = offsets[0].as_py(), offsets[-1].as_py()
    return data.slice(start, end - start).to_pybytes()


def _holds_any(text: bytes, needles: str) -> bool:
    """True if the UTF-8 text holds one of the characters."""
    encoded = [c.encode("utf-8") for c in needles]
    # a one-byte search (memchr) for their first bytes rules most batches out at once
    if not any(first in text for first in {e[:1] for e in encoded}):
        return False
    return any(e in text for e in encoded)


def mask_names(values: pa.Array) -> pa.Array:
    """``masking.mask(v, 'name')`` of every value, in pyarrow compute: 张三丰 -> 张**."""
    if pa.types.is_string(values.type):
        data = _text_bytes(values)
        # trimming keeps every value of a batch without spaces: skip it then (it copies)
        spaced = _holds_any(data, PYTHON_SPACES)
        dotted = _holds_any(data, NAME_DOTS)  # trimming removes no dot
    else:  # large_string: search it value by value
        spaced = True
        dotted = any(pc.any(pc.match_substring(values, dot)).as_py() for dot in NAME_DOTS)
    text = pc.utf8_trim(values, characters=PYTHON_SPACES) if spaced else values
    star = pa.scalar(masking.MASK_CHAR, type=text.type)
    length = pc.utf8_length(text)
    bounds = pc.min_max(length).as_py()
    longest, shortest = bounds["max"] or 0, bounds["min"] or 0
    if dotted:
        rest = pc.replace_substring_regex(
            pc.utf8_slice_codeunits(text, start=1),
            pattern=f"[^{NAME_DOTS}]",
            replacement=masking.MASK_CHAR,
        )
    elif longest <= STAR_RUNS_MAX:
        # the runs of stars taken from a small table: cheaper than repeating per value
        runs = pa.array([masking.MASK_CHAR * n for n in range(longest + 1)], type=text.type)
        rest = runs.take(pc.max_element_wise(pc.subtract(length, 1), 0))
    else:
        rest = pc.binary_repeat(star, pc.max_element_wise(pc.subtract(length, 1), 0))
    kept = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(text, start=0, stop=1), rest, pa.scalar("", type=text.type)
    )
    if shortest >= 2:  # nulls too: min_max skips them, and every step keeps them null
        return kept
    return pc.if_else(pc.less(length, 2), pc.binary_repeat(star, length), kept)


def mask_identifiers(values: pa.Array, category: str) -> pa.Array:
    """``masking.mask`` of resident IDs, mobiles, bank cards or credit codes, vectorized.

    The common case (ASCII letters and digits, all of one length, no 0086 prefix) is
    one byte-slice replacement; anything else goes to ``masking.mask_array``.
    """
    prefix, suffix = masking.KEEP_PREFIX_SUFFIX[category]
    lengths = pc.min_max(pc.binary_length(values)).as_py()
    uniform = (
        lengths["min"] is not None
        and lengths["min"] == lengths["max"]
        and pc.all(pc.ascii_is_alnum(values)).as_py() is not False
        and not (category == MOBILE and pc.any(pc.starts_with(values, "0086")).as_py())
    )
    if not uniform:
        return masking.mask_array(values, category)  # type: ignore[return-value]
    size = lengths["min"]
    hidden = size - prefix - suffix
    if hidden < masking.MIN_HIDDEN:
        stars = pa.scalar(masking.MASK_CHAR * size, type=values.type)
        return pc.if_else(pc.is_valid(values), stars, pa.scalar(None, type=values.type))
    return pc.binary_replace_slice(
        pc.ascii_upper(values),
        start=prefix,
        stop=prefix + hidden,
        replacement=masking.MASK_CHAR * hidden,
    )


def _per_distinct(values: pa.Array, transform: Callable[[Any], str]) -> pa.Array:
    """Apply a Python function once per distinct value, then spread the results."""
    encoded = values.dictionary_encode()
    results = [None if v is None else transform(v) for v in encoded.dictionary.to_pylist()]
    return pa.array(results, type=pa.string()).take(encoded.indices)


def deliver_column(
    values: pa.Array, spec: FieldSpec, delivery: Delivery, *, key: bytes
) -> pa.Array:
    """A stored column as delivered; equal, value by value, to ``deliver_value``."""
    if not changes(spec, delivery):
        return values
    transform = _transform(spec, delivery, key)
    if spec.type != FieldType.string:
        return _per_distinct(values, lambda v: transform(text_of(v, spec.type)))
    category = category_of(spec)
    if delivery == Delivery.masked and category == NAME:
        return mask_names(values)
    if delivery == Delivery.masked and category in masking.KEEP_PREFIX_SUFFIX:
        return mask_identifiers(values, category)
    return _per_distinct(values, transform)


@dataclass(frozen=True)
class ColumnPlan:
    """How one delivered column is produced from the stored one."""

    spec: FieldSpec
    delivery: Delivery

    @property
    def arrow_type(self) -> pa.DataType:
        return pa.string() if changes(self.spec, self.delivery) else arrow_type(self.spec.type)


def delivered_schema(plan: Sequence[ColumnPlan]) -> pa.Schema:
    """The Arrow schema of delivered batches (masked and pseudonymized columns are strings)."""
    return pa.schema(
        [
            pa.field(
                c.spec.name, c.arrow_type, nullable=not c.spec.key or changes(c.spec, c.delivery)
            )
            for c in plan
        ]
    )


def deliver_batch(
    batch: pa.RecordBatch, plan: Sequence[ColumnPlan], schema: pa.Schema, *, key: bytes
) -> pa.RecordBatch:
    """A stored batch (columns in plan order) as delivered: masked, pseudonymized or clear."""
    columns = [
        deliver_column(batch.column(i), c.spec, c.delivery, key=key) for i, c in enumerate(plan)
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)

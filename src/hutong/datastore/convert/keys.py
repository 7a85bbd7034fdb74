"""Duplicate keys across the batches of one load (主键重复)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from hutong.catalog.schemas import FieldSpec
from hutong.core.errors import Problem, ProblemList
from hutong.datastore.convert.schema import REASON_VALUE_CHARS
from hutong.datastore.readers.common import preview


class KeyTracker:
    """Finds keys that repeat anywhere in one load (主键重复), composite keys included.

    Feed it each typed batch, in order, with ``add``; a repeated key becomes a Problem
    naming the row where it first appeared. Keys go into a Python set (one
    ``to_pylist`` of the key columns per batch); the row of each key is looked up only
    once a repeat has been found, from key columns kept as Arrow arrays.
    """

    def __init__(self, fields: Sequence[FieldSpec], *, problems: ProblemList | None = None) -> None:
        self.key_names = [f.name for f in fields if f.key]
        self.problems = problems
        self.duplicates = 0
        self._seen: set[Any] = set()
        self._first_rows: dict[Any, int] | None = None  # built on the first repeat
        self._kept: list[tuple[int, pa.Table]] = []

    def add(self, table: pa.Table, *, first_row: int, problems: ProblemList | None = None) -> int:
        """Track the keys of a typed batch whose first row is data row ``first_row``.

        Adds a Problem per row whose key came earlier (to ``problems``, else to the list
        given at construction) and returns how many rows of this batch repeat a key.
        """
        sink = self.problems if problems is None else problems
        if sink is None:
            raise ValueError("KeyTracker.add needs a ProblemList")
        if not self.key_names or table.num_rows == 0:
            return 0
        keys = self._key_values(table)
        if self._first_rows is None:
            batch = set(keys)
            if len(batch) == len(keys) and None not in batch and self._seen.isdisjoint(batch):
                self._seen |= batch
                self._kept.append((first_row, table.select(self.key_names)))
                return 0
            self._first_rows = self._index()
        found = 0
        for offset, key in enumerate(keys):
            if key is None or (isinstance(key, tuple) and None in key):
                continue  # an empty key is convert_batch's problem to report
            row = first_row + offset
            first = self._first_rows.setdefault(key, row)
            if first != row:
                found += 1
                key_text = ", ".join(_key_text(part) for part in _parts(key, self.key_names))
                sink.add(
                    Problem(
                        reason=f"duplicate key ({preview(key_text, REASON_VALUE_CHARS)}) "
                        f"also at row {first}",
                        row=row,
                        column=", ".join(self.key_names),
                        value=preview(key_text),
                    )
                )
        self.duplicates += found
        return found

    def _key_values(self, table: pa.Table) -> list[Any]:
        columns = [table.column(name).to_pylist() for name in self.key_names]
        return columns[0] if len(columns) == 1 else list(zip(*columns, strict=True))

    def _index(self) -> dict[Any, int]:
        first_rows: dict[Any, int] = {}
        for start, kept in self._kept:
            for offset, key in enumerate(self._key_values(kept)):
                first_rows.setdefault(key, start + offset)
        self._kept = []
        self._seen = set()
        return first_rows


def _parts(key: Any, names: Sequence[str]) -> tuple[Any, ...]:
    return tuple(key) if len(names) > 1 else (key,)


def _key_text(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)

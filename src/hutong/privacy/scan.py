"""``hutong pi scan``: propose a personal-information category for each column of a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hutong.datastore.readers import open_source
from hutong.privacy.classify import classify_column, proposals_as_json


def scan_file(path: Path, *, sample: int = 1000, format: str | None = None) -> list[dict[str, Any]]:
    """Read up to ``sample`` rows of a file and propose each column's PI category.

    Raises Invalid for a file that cannot be read (named encoding, binary, ragged rows).
    """
    values: dict[str, list[str | None]] = {}
    with open_source(path, format=format) as source:
        columns = list(source.columns)
        values = {c: [] for c in columns}
        taken = 0
        for batch in source.iter_batches(batch_rows=min(sample, 65536)):
            part = batch.table.slice(0, sample - taken)
            for name in columns:
                values[name].extend(
                    None if v is None else str(v) for v in part.column(name).to_pylist()
                )
            taken += part.num_rows
            if taken >= sample:
                break
    proposals = [classify_column(name, values[name], sample=sample) for name in columns]
    return proposals_as_json(proposals)

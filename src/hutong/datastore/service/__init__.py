"""Hosted datasets: create tables, load files all-or-nothing, look up, page and export."""

from hutong.datastore.service.batches import export_batches
from hutong.datastore.service.ingest import HASH_CHUNK, Progress, file_sha256, ingest_file
from hutong.datastore.service.records import (
    SUBJECT_CATEGORIES,
    _json_value,
    record_count,
    search_records,
    subject_values,
)
from hutong.datastore.service.resources import fields_of, may_manage, may_read_data, table_of

__all__ = [
    "HASH_CHUNK",
    "SUBJECT_CATEGORIES",
    "Progress",
    "_json_value",
    "export_batches",
    "fields_of",
    "file_sha256",
    "ingest_file",
    "may_manage",
    "may_read_data",
    "record_count",
    "search_records",
    "subject_values",
    "table_of",
]

"""The gateway's logic: authorize a call by its grant, fetch, deliver (mask), plan bulk.

Routes (``gateway.api``) parse, call these, write the audit entry and answer.
"""

from hutong.gateway.service.access import (
    SCENARIO_HEADER,
    Authorized,
    authorize,
    granted_fields,
    require_granted,
    scenario_from_header,
)
from hutong.gateway.service.bulk import (
    BulkPlan,
    plan_bulk,
    read_ahead,
    read_batches,
    stream_bulk,
)
from hutong.gateway.service.deliver import (
    ColumnPlan,
    deliver_batch,
    deliver_column,
    deliver_value,
    delivered_schema,
    mask_names,
    pseudonym_key,
)
from hutong.gateway.service.records import Answer, lookup, query, verify

__all__ = [
    "SCENARIO_HEADER",
    "Answer",
    "Authorized",
    "BulkPlan",
    "ColumnPlan",
    "authorize",
    "deliver_batch",
    "deliver_value",
    "delivered_schema",
    "granted_fields",
    "lookup",
    "deliver_column",
    "mask_names",
    "plan_bulk",
    "pseudonym_key",
    "query",
    "read_ahead",
    "read_batches",
    "require_granted",
    "scenario_from_header",
    "stream_bulk",
    "verify",
]

"""Data of the demo Shanghai node (``sh``): departments, catalog and hosted records.

One import for everything the demo needs; the data lives in two modules:

- :mod:`hutong.demo.catalog_data`: :data:`DEPARTMENTS` (with valid credit codes) and
  :func:`resource_specs` (dicts that validate as ``ResourceCreate``);
- :mod:`hutong.demo.records`: deterministic generators of the hosted tables as
  ``pyarrow.Table`` objects, and :func:`hosted_tables` to build them all, linked.

Everything is pure: no database, no network, same seed, same data.
"""

from __future__ import annotations

from hutong.demo.catalog_data import (
    ADDRESSES,
    BUSINESS_LICENCES,
    CLASSIFICATIONS,
    DEPARTMENTS,
    ENTERPRISES,
    HOSTED_CODES,
    MARRIAGES,
    NODE,
    PENALTIES,
    POPULATION,
    VACCINATIONS,
    Department,
    department,
    field_names,
    make_uscc,
    operator,
    organization_check_char,
    resource_spec,
    resource_specs,
)
from hutong.demo.records import (
    ARROW_TYPES,
    DISTRICTS,
    REFERENCE_DATE,
    District,
    addresses,
    arrow_schema,
    business_licences,
    credit_penalties,
    enterprises,
    hosted_tables,
    marriages,
    population,
    resident_id,
    vaccinations,
)

__all__ = [
    "ADDRESSES",
    "ARROW_TYPES",
    "BUSINESS_LICENCES",
    "CLASSIFICATIONS",
    "DEPARTMENTS",
    "DISTRICTS",
    "ENTERPRISES",
    "HOSTED_CODES",
    "MARRIAGES",
    "NODE",
    "PENALTIES",
    "POPULATION",
    "REFERENCE_DATE",
    "VACCINATIONS",
    "Department",
    "District",
    "addresses",
    "arrow_schema",
    "business_licences",
    "credit_penalties",
    "department",
    "enterprises",
    "field_names",
    "hosted_tables",
    "make_uscc",
    "marriages",
    "operator",
    "organization_check_char",
    "population",
    "resident_id",
    "resource_spec",
    "resource_specs",
    "vaccinations",
]

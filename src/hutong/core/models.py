"""Imports every domain's ORM models so metadata (and Alembic) sees all tables."""

from hutong.catalog import models as catalog_models
from hutong.datastore import models as datastore_models
from hutong.identity import models as identity_models

__all__ = ["catalog_models", "datastore_models", "identity_models"]

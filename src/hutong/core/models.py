"""Imports every domain's ORM models so metadata (and Alembic) sees all tables."""

from hutong.audit import models as audit_models
from hutong.catalog import models as catalog_models
from hutong.datastore import models as datastore_models
from hutong.gateway import models as gateway_models
from hutong.identity import models as identity_models
from hutong.notifications import models as notifications_models
from hutong.objections import models as objections_models
from hutong.quality import models as quality_models
from hutong.sharing import models as sharing_models
from hutong.upstream import models as upstream_models

__all__ = [
    "audit_models",
    "catalog_models",
    "datastore_models",
    "gateway_models",
    "identity_models",
    "notifications_models",
    "objections_models",
    "quality_models",
    "sharing_models",
    "upstream_models",
]

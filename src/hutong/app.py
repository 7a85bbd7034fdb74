"""The FastAPI app factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from hutong import __version__
from hutong.audit.runtime import AuditRuntime
from hutong.core.database import Database
from hutong.core.http import BodyLimitMiddleware, RequestLogMiddleware, install_error_handlers
from hutong.core.logging import configure as configure_logging
from hutong.core.settings import Settings, get_settings
from hutong.gateway.lane import LookupLane
from hutong.notifications.sender import WebhookSender


class HutongApp(FastAPI):
    """The FastAPI app with the gateway's fast lane in front of its middleware stack.

    The lane answers the common key lookup itself (with its own request id, log line and
    metrics) and hands every other request to the stack (decision 0015).
    """

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        lane = getattr(self.state, "gateway_lane", None)
        if lane is None:
            return stack
        lane.app = stack
        return lane  # type: ignore[no-any-return]


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the app: settings, database, routers, error mapping, limits, logs and metrics."""
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.audit.start()
        app.state.webhooks.start()
        from hutong.gateway.service.bulk.child import warm_up_for

        warm_up_for(app.state.db.url)  # SQLite snapshots are read by children of a fork server
        if settings.gc_freeze:
            # the objects of the start (modules, the app, caches) never become garbage; a
            # full collection walking them stopped every request for 140 ms (decision 0019)
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            app.state.webhooks.stop()
            app.state.audit.stop()
            lane = getattr(app.state, "gateway_lane", None)
            if lane is not None:
                lane.close()
            caller = getattr(app.state, "upstream_caller", None)
            if caller is not None:
                caller.close()

    app = HutongApp(
        lifespan=lifespan,
        # hutong's metrics are Prometheus (/metrics); FastAPI's OpenTelemetry bridge would
        # look up the global providers on every request for nothing
        telemetry={"tracing": False, "metrics": False, "logs": False},
        title="hutong 互通",
        version=__version__,
        description="Public data sharing node: catalog, hosted datasets, CKAN and DCAT views.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = database or Database(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    app.state.audit = AuditRuntime(app.state.db, settings)
    app.state.webhooks = WebhookSender(app.state.db, settings)
    install_error_handlers(app)

    from hutong.audit.api import router as audit_router
    from hutong.catalog.api import router as catalog_router
    from hutong.ckan.api import router as ckan_router
    from hutong.datastore.api import router as datastore_router
    from hutong.dcat.api import router as dcat_router
    from hutong.gateway.api import router as gateway_router
    from hutong.identity.api import router as identity_router
    from hutong.notifications.api import router as notifications_router
    from hutong.objections.api import router as objections_router
    from hutong.quality.api import router as quality_router
    from hutong.sharing.api import router as sharing_router
    from hutong.upstream.api import router as upstream_router
    from hutong.web.ops import router as ops_router
    from hutong.web.pages import router as pages_router

    # the gateway first: its calls are the hot path, and routes are matched in order
    app.include_router(gateway_router, prefix="/gateway/v1")
    app.include_router(ops_router)
    app.include_router(identity_router, prefix="/api/v1")
    app.include_router(catalog_router, prefix="/api/v1")
    app.include_router(datastore_router, prefix="/api/v1")
    app.include_router(audit_router, prefix="/api/v1")
    app.include_router(sharing_router, prefix="/api/v1")
    app.include_router(upstream_router, prefix="/api/v1")
    app.include_router(objections_router, prefix="/api/v1")
    app.include_router(notifications_router, prefix="/api/v1")
    app.include_router(quality_router, prefix="/api/v1")
    app.include_router(ckan_router, prefix="/api/3/action")
    # CKAN serves the action API unversioned too, and ckanapi calls that path by default
    app.include_router(ckan_router, prefix="/api/action", include_in_schema=False)
    app.include_router(dcat_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(packages=[("hutong.web", "static")]), name="static")

    LookupLane(None, hutong_app=app)  # in front of the middleware: see HutongApp
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=settings.max_json_body_bytes,
        upload_limit=settings.max_upload_bytes,
    )
    app.add_middleware(RequestLogMiddleware)
    return app

"""The application factory: settings -> database, known ETags -> bus -> middleware, routers."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from config_service import health
from config_service.applications.router import router as applications_router
from config_service.body_limits import BodyLimitMiddleware
from config_service.bus import MessageBus
from config_service.configurations.router import router as configurations_router
from config_service.database import open_database
from config_service.errors import install_error_handlers
from config_service.openapi import install_openapi
from config_service.request_log import RequestLogMiddleware
from config_service.revalidation import open_known_etags
from config_service.security import BearerTokenMiddleware
from config_service.settings import Settings, get_settings

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    """A ready-to-serve app; `uvicorn --factory config_service.main:create_app` calls it."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.auth_enabled:
            log.warning("no API_READ_TOKENS or API_WRITE_TOKENS: the API is open to anyone")
        async with open_database(settings) as database, open_known_etags(settings) as known_etags:
            app.state.database = database
            app.state.known_etags = known_etags
            app.state.bus = MessageBus(database, after_command=known_etags.forget_all)
            yield

    app = FastAPI(
        title="Configuration Service",
        version="1.0.0",
        summary="Applications and their JSON configurations, for write clients and runtimes.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(applications_router, prefix=API_PREFIX)
    app.include_router(configurations_router, prefix=API_PREFIX)
    app.include_router(health.router)
    # Added innermost first: a request meets the request log, then tokens, then body limits.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.auth_enabled:
        app.add_middleware(
            BearerTokenMiddleware,
            read_tokens=settings.api_read_tokens,
            write_tokens=settings.api_write_tokens,
        )
    app.add_middleware(RequestLogMiddleware)
    return app

"""The application factory: the one place where everything is wired together.

settings -> routers -> metrics -> read model -> problem handlers, OpenAPI, middleware;
then, in the lifespan: database, listener, and the bus with every handler table.
"""

import asyncio
import logging
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path

from fastapi import FastAPI

from config_service import health
from config_service.access.reload import TokenSource
from config_service.applications import commands as application_commands
from config_service.applications import queries as application_queries
from config_service.applications.router import router as applications_router
from config_service.bus import HandlerTable, MessageBus
from config_service.configurations import commands as configuration_commands
from config_service.configurations import history as configuration_history
from config_service.configurations import queries as configuration_queries
from config_service.configurations import rejections as configuration_rejections
from config_service.configurations import rollouts as configuration_rollouts
from config_service.configurations import schedule as rollout_schedule
from config_service.configurations.router import router as configurations_router
from config_service.http.bearer import AccessMiddleware
from config_service.http.docs import install_docs
from config_service.http.head import HeadMiddleware
from config_service.http.json_bodies import JsonBodyMiddleware
from config_service.http.openapi import install_openapi
from config_service.http.problems import install_problem_handlers
from config_service.http.query_parameters import QueryParameterMiddleware
from config_service.http.request_log import RequestLogMiddleware
from config_service.keys import API_PREFIX
from config_service.read_model.listener import open_listener
from config_service.read_model.model import ReadModel
from config_service.settings import SVC_DIR, Settings, get_settings
from config_service.store.database import open_database
from config_service.store.readiness import schema_ready
from config_service.telemetry.catalogue import service_registry
from config_service.telemetry.ignored import ignored_metrics
from config_service.telemetry.route import router as monitoring_router

log = logging.getLogger(__name__)

VERSION = tomllib.loads((SVC_DIR / "pyproject.toml").read_text())["project"]["version"]


# Everything the service can do.
COMMAND_HANDLERS: HandlerTable = {
    **application_commands.COMMAND_HANDLERS,
    **configuration_commands.COMMAND_HANDLERS,
    **configuration_rollouts.COMMAND_HANDLERS,
    **configuration_rejections.COMMAND_HANDLERS,
    **rollout_schedule.COMMAND_HANDLERS,
}
QUERY_HANDLERS: HandlerTable = {
    **application_queries.QUERY_HANDLERS,
    **configuration_queries.QUERY_HANDLERS,
    **configuration_history.QUERY_HANDLERS,
    **health.QUERY_HANDLERS,
    **rollout_schedule.QUERY_HANDLERS,
}


def served_routes(app: FastAPI) -> dict[str, set[str]]:
    """Each route template with the methods it serves, for the series metrics can have."""
    routes: dict[str, set[str]] = {}
    for route in app.routes:
        routes.setdefault(route.path, set()).update(getattr(route, "methods", None) or ())
    return routes


def create_app(
    settings: Settings | None = None,
    *,
    metrics_directory: Path | None = None,
    worker: int = 0,
    migrate: bool = False,
) -> FastAPI:
    """A ready-to-serve app; `uvicorn --factory config_service.main:create_app` calls it.

    Workers of one service share `metrics_directory`, each as its `worker` number (process/supervisor.py);
    without one, a scrape sees this process only. With `migrate`, the app creates and migrates
    its database itself, now or once PostgreSQL answers, and answers 503 until then (store/readiness.py).
    """
    settings = settings or get_settings()
    tokens = TokenSource(
        settings.api_tokens_file, settings.api_read_tokens, settings.api_write_tokens
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.auth_enabled:
            log.warning("no API_TOKENS_FILE nor API_*_TOKENS: the API is open to anyone")
        else:
            log.info(tokens.in_force())
        async with (
            tokens.reloading(),
            open_database(settings, metrics) as database,
            schema_ready(settings, database) if migrate else nullcontext(),
            open_listener(settings, read_model, metrics),
        ):
            app.state.bus = MessageBus(
                database,
                read_model,
                commands=COMMAND_HANDLERS,
                queries=QUERY_HANDLERS,
            )
            # Each worker takes the rollout steps that are due (configurations/schedule.py),
            # unless told to leave them to other instances.
            stepping = asyncio.create_task(
                rollout_schedule.advance_rollouts_forever(app.state.bus, metrics)
                if settings.rollout_steps
                else asyncio.Event().wait()
            )
            try:
                yield
            finally:
                stepping.cancel()
                await asyncio.gather(stepping, return_exceptions=True)
                await read_model.close()

    app = FastAPI(
        title="Configuration Service",
        version=VERSION,
        summary="Applications and their JSON configurations, for write clients and runtimes.",
        lifespan=lifespan,
        docs_url=None,  # install_docs serves /docs and /redoc from the configured asset URLs
        redoc_url=None,
        # A trailing slash is a 404 naming the path without it (http/problems.py), not a bodiless
        # 307 that only `curl -L` would follow.
        redirect_slashes=False,
    )
    # Routes are tried in order: the GET runtimes call most comes first (configurations/router.py).
    app.include_router(configurations_router, prefix=API_PREFIX)
    app.include_router(applications_router, prefix=API_PREFIX)
    app.include_router(health.router)
    install_docs(app, settings)
    install_openapi(app, auth_enabled=settings.auth_enabled)
    if settings.metrics_enabled:
        app.include_router(monitoring_router)
        registry, metrics = service_registry(served_routes(app))
        app.state.metrics_store = registry.open(metrics_directory, slot=worker, version=VERSION)
    else:
        metrics = ignored_metrics()
    read_model = ReadModel(
        max_bytes=settings.read_cache_bytes,
        max_wait=settings.max_wait_seconds,
        max_waiters=settings.max_waiters,
        retry_after=settings.retry_after,
        metrics=metrics,
    )
    app.state.settings = settings  # for the checks that need them (http/dependencies.py)
    app.state.metrics = metrics  # for what routers count (http/dependencies.py)
    # The server ends held requests with this when it starts to shut down (process/serving.py).
    app.state.read_model = read_model
    install_problem_handlers(app, metrics)
    # Added innermost first: a request meets the request log, then tokens, then body checks.
    app.add_middleware(HeadMiddleware)
    app.add_middleware(QueryParameterMiddleware, routes=app.routes, prefix=API_PREFIX)
    app.add_middleware(
        JsonBodyMiddleware,
        routes=app.routes,
        max_body_bytes=settings.max_body_bytes,
    )
    if settings.auth_enabled:
        app.add_middleware(AccessMiddleware, tokens=tokens)
    app.add_middleware(RequestLogMiddleware, metrics=metrics)
    return app

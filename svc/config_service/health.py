"""Liveness and readiness, outside /api/v1 and never behind a token."""

from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from config_service.bus import HandlerTable
from config_service.http.dependencies import bus_of
from config_service.http.openapi_parts import problem_responses
from config_service.http.problems import problem
from config_service.messages import NO_DELIVERY, Delivery, Query
from config_service.store.database import Cursor
from config_service.store.migration_files import Migration, MigrationError, discover
from config_service.store.migrations import pending

router = APIRouter(prefix="/health", tags=["health"])


@dataclass(frozen=True, slots=True)
class PendingMigrations(Query[list[Migration]]):
    """Which of this build's migrations the database has not applied."""


def pending_migrations(
    cursor: Cursor, query: PendingMigrations, delivery: Delivery = NO_DELIVERY
) -> list[Migration]:
    # Read from disk on each check, not at import: a misnamed file makes readiness say so.
    return pending(cursor, discover())


QUERY_HANDLERS: HandlerTable = {PendingMigrations: pending_migrations}


class Live(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]


@router.get(
    "/live",
    operation_id="live",
    summary="The process is up",
    response_model=Live,
    responses={200: {"description": "The process serves requests."}},
)
async def live() -> dict[str, str]:
    """Always 200 while the process serves requests."""
    return {"status": "ok"}


@router.get(
    "/ready",
    operation_id="ready",
    summary="The database is reachable and migrated",
    response_model=Ready,
    responses={
        200: {"description": "Ready: the database answers and every migration is applied."},
        503: {
            **problem_responses(503)[503],
            "description": "Not ready: the database is unreachable, or migrations are pending "
            "or differ from this build's.",
        },
    },
)
async def ready(request: Request) -> Response:
    """200 when requests can be served; 503 while the database is unreachable or behind."""
    # An unreachable database raises DatabaseUnavailable: 503 through the problem handlers.
    try:
        missing = await bus_of(request).dispatch(PendingMigrations())
    except MigrationError as error:  # an applied migration differs from this build's
        return problem(request.scope, 503, str(error))
    if missing:
        names = ", ".join(migration.label for migration in missing)
        return problem(request.scope, 503, f"Migrations are pending: {names}.")
    return JSONResponse({"status": "ready"})

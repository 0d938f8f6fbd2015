"""Liveness and readiness, outside /api/v1 and never behind a token."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from config_service.errors import problem
from config_service.migrations import MigrationError, discover, pending

router = APIRouter(prefix="/health", tags=["health"])

MIGRATIONS = discover()


@router.get("/live", operation_id="live", summary="The process is up")
async def live() -> dict[str, str]:
    """Always 200 while the process serves requests."""
    return {"status": "ok"}


@router.get(
    "/ready",
    operation_id="ready",
    summary="The database is reachable and migrated",
    responses={503: {"description": "Not ready: the database is down or migrations are pending."}},
)
async def ready(request: Request) -> Response:
    """200 when requests can be served; 503 while the database is unreachable or behind."""
    # An unreachable database raises DatabaseUnavailable: 503 through the error handlers.
    try:
        missing = await request.app.state.database.run(pending, MIGRATIONS, write=False)
    except MigrationError as error:  # an applied migration differs from this build's
        return problem(request.scope, 503, str(error))
    if missing:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in missing)
        return problem(request.scope, 503, f"Migrations are pending: {names}.")
    return JSONResponse({"status": "ready"})

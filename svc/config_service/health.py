"""Liveness and readiness, outside /api/v1 and never behind a token."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from config_service.errors import DatabaseUnavailable, problem
from config_service.migrations import discover, pending

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
    try:
        missing = await request.app.state.database.run(pending, MIGRATIONS, write=False)
    except DatabaseUnavailable as error:
        return problem(request.scope, 503, error.detail, headers=error.headers)
    if missing:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in missing)
        return problem(request.scope, 503, f"Migrations are pending: {names}.")
    return JSONResponse({"status": "ready"})

"""HTTP routes for applications: parse, dispatch to the bus, shape the response. Nothing else."""

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response

from config_service.applications.commands import CreateApplication, UpdateApplication
from config_service.applications.models import ApplicationCreate, ApplicationRead, ApplicationUpdate
from config_service.applications.queries import GetApplication, ListApplications
from config_service.bus import Bus
from config_service.errors import READ_PROBLEMS, WRITE_PROBLEMS, problem_responses
from config_service.representation import JSON, NOT_MODIFIED
from config_service.revalidation import revalidated_read
from config_service.schema import Ulid

router = APIRouter(prefix="/applications", tags=["applications"])

ApplicationId = Annotated[Ulid, Path(description="The application's id.")]
IfMatch = Annotated[
    str | None, Header(description="Apply only if the application's ETag is still this one.")
]


@router.post(
    "",
    status_code=201,
    response_model=ApplicationRead,
    operation_id="createApplication",
    summary="Create an application",
    responses=problem_responses(409, *WRITE_PROBLEMS),
)
async def create_application(body: ApplicationCreate, bus: Bus, request: Request) -> Response:
    """Creates an application with a new id; its name must not be taken."""
    application = await bus.dispatch(CreateApplication(name=body.name, comments=body.comments))
    location = str(request.url_for("get_application", id=application.id))
    return application.response(201, {"Location": location})


@router.put(
    "/{id}",
    response_model=ApplicationRead,
    operation_id="updateApplication",
    summary="Replace an application's name and comments",
    responses=problem_responses(404, 409, 412, *WRITE_PROBLEMS),
)
async def update_application(
    id: ApplicationId, body: ApplicationUpdate, bus: Bus, if_match: IfMatch = None
) -> Response:
    """Replaces name and comments; send If-Match with the ETag you read to avoid lost updates."""
    application = await bus.dispatch(
        UpdateApplication(id=id, name=body.name, comments=body.comments, if_match=if_match)
    )
    return application.response()


@router.get(
    "/{id}",
    response_model=ApplicationRead,
    operation_id="getApplication",
    summary="Read an application and its configuration ids",
    responses={**NOT_MODIFIED, **problem_responses(404, *READ_PROBLEMS)},
)
async def get_application(id: ApplicationId, bus: Bus, request: Request) -> Response:
    """The application with the ids of all its configurations, ascending; supports If-None-Match."""
    return await revalidated_read(request, bus, GetApplication(id=id))


@router.get(
    "",
    response_model=list[ApplicationRead],
    operation_id="listApplications",
    summary="List applications in id order, a page at a time",
    responses=problem_responses(*READ_PROBLEMS),
)
async def list_applications(
    request: Request,
    bus: Bus,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
    after: Annotated[Ulid | None, Query(description="Start after this id.")] = None,
) -> Response:
    """Applications ordered by id; while more remain, `Link: <…>; rel="next"` points to them."""
    page = await bus.dispatch(ListApplications(limit=limit, after=after))
    headers = {}
    if page.next_after is not None:
        next_url = request.url.include_query_params(limit=limit, after=page.next_after)
        headers["Link"] = f'<{next_url}>; rel="next"'
    return Response(page.body, media_type=JSON, headers=headers)

"""HTTP routes for applications: parse, dispatch to the bus, shape the response. Nothing else."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import QueryParams

from config_service.applications.commands import CreateApplication, UpdateApplication
from config_service.applications.models import (
    ApplicationCreate,
    ApplicationRead,
    ApplicationUpdate,
)
from config_service.applications.queries import (
    GetApplication,
    GetApplicationConfigurations,
    ListApplications,
)
from config_service.errors import InvalidValue
from config_service.fields import APPLICATION_ID_EXAMPLE, Name, Ulid
from config_service.http.dependencies import (
    PathId,
    RequestRoute,
    bus_of,
    check_body_id,
    check_if_match,
    dry_run_of,
    if_match_header,
)
from config_service.http.openapi_parts import (
    CACHE_CONTROL,
    DRY_RUN_PARAMETER,
    READ_PARAMETERS,
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    WRITTEN_HEADERS,
    header,
    problem_responses,
    read_responses,
)
from config_service.http.responses import (
    JSON,
    READ_VARY,
    answer_get,
    delivery_of,
    representation_response,
)
from config_service.messages import Get

router = APIRouter(prefix="/applications", tags=["applications"], route_class=RequestRoute)

ApplicationId = PathId("application", APPLICATION_ID_EXAMPLE)
IfMatch = if_match_header("application")


@router.post(
    "",
    status_code=201,
    response_model=ApplicationRead,
    operation_id="createApplication",
    summary="Create an application",
    responses={
        201: {
            "description": "Created: the application, as a GET returns it.",
            "headers": {**WRITTEN_HEADERS, "Location": header("The new application's URL.")},
        },
        **problem_responses(409, *WRITE_PROBLEMS),
    },
    openapi_extra={"parameters": [DRY_RUN_PARAMETER]},
)
async def create_application(body: ApplicationCreate, request: Request) -> Response:
    """Creates an application with a new id; its name must not be taken."""
    command = CreateApplication(name=body.name, comments=body.comments)
    dry_run = dry_run_of(request)
    application = await bus_of(request).dispatch(command, delivery_of(request, dry_run=dry_run))
    location = str(request.url_for("get_application", id=application.id))
    return representation_response(application, 201, {"Location": location})


@router.put(
    "/{id}",
    response_model=ApplicationRead,
    operation_id="updateApplication",
    summary="Replace an application's name and comments",
    responses={
        200: {
            "description": "Replaced: the application, as a GET returns it.",
            "headers": WRITTEN_HEADERS,
        },
        **problem_responses(404, 409, 412, *WRITE_PROBLEMS),
    },
    openapi_extra={"parameters": [DRY_RUN_PARAMETER]},
)
async def update_application(
    id: ApplicationId.declared,
    body: ApplicationUpdate,
    request: Request,
    if_match: IfMatch = None,
) -> Response:
    """Replaces name and comments; send If-Match with the ETag you read to avoid lost updates.
    The body a GET returned may be sent back edited."""
    check_body_id(body.id, id)
    check_if_match(if_match)
    application = await bus_of(request).dispatch(
        UpdateApplication(id=id, name=body.name, comments=body.comments, if_match=if_match),
        delivery_of(request, dry_run=dry_run_of(request)),
    )
    return representation_response(application)


INCLUDE = "configurations"
# Read by get_application itself (a GET without a query string pays nothing for it), so it is
# documented here, where the middleware that refuses unknown parameters also looks.
INCLUDE_PARAMETER = {
    "name": "include",
    "in": "query",
    "required": False,
    "description": "`configurations`: add `configurations`, each one's representation byte for "
    "byte as `GET /configurations/{id}` answers it (without its headers), in "
    "`configuration_ids` order; one snapshot, one ETag.",
    "schema": {"type": "string", "enum": [INCLUDE]},
}


def includes_configurations(query_string: bytes) -> bool:
    """Whether `?include=configurations` was asked; any other `include` is a 422. (The
    middleware has refused unknown parameters already.)"""
    if not query_string:
        return False
    included = QueryParams(query_string).getlist("include")
    if included != [INCLUDE]:
        raise InvalidValue(f"include can only be {INCLUDE}, once.", loc=("query", "include"))
    return True


@router.get(
    "/{id}",
    response_model=ApplicationRead,
    operation_id="getApplication",
    summary="Read an application and its configuration ids, or with its configurations",
    responses={**read_responses("application"), **problem_responses(404, *READ_PROBLEMS)},
    openapi_extra={
        "parameters": [ApplicationId.openapi, *READ_PARAMETERS["parameters"], INCLUDE_PARAMETER]
    },
)
async def get_application(request: Request) -> Response:
    """The application with the ids of all its configurations, ascending; with
    `?include=configurations`, also each configuration as its own GET answers it, in that
    order, under one ETag. Supports If-None-Match (304), `Prefer: wait=N` (watch: with
    `include`, it wakes on any change of any of them) and `Cache-Control` (see its parameter)."""
    id = ApplicationId.of(request)
    if includes_configurations(request.scope["query_string"]):
        query: Get = GetApplicationConfigurations(id)
    else:
        query = GetApplication(id)
    return await answer_get(bus_of(request), request, query)




@router.get(
    "",
    response_model=list[ApplicationRead],
    operation_id="listApplications",
    summary="List applications in id order, a page at a time, or find one by name",
    responses={
        200: {
            "description": "A page of applications (with `name`: a page of 0 or 1).",
            "headers": {
                "Cache-Control": CACHE_CONTROL,
                "Link": header('`<next page URL>; rel="next"` while more remain.'),
            },
        },
        **problem_responses(*READ_PROBLEMS),
    },
)
async def list_applications(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
    after: Annotated[Ulid | None, Query(description="Start after this id.")] = None,
    name: Annotated[
        Name | None,
        Query(description="Only the application of exactly this name (case-sensitive)."),
    ] = None,
) -> Response:
    """Applications ordered by id; while more remain, `Link: <…>; rel="next"` points to them.
    Unknown query parameters are refused (422), so a typo never lists everything."""
    query = ListApplications(limit=limit, after=after, name=name)
    # The caller's applications only (the delivery names the caller).
    page = await bus_of(request).dispatch(query, delivery_of(request))
    headers = {"Cache-Control": "no-cache", "Vary": READ_VARY}  # as every GET under /api/
    if page.next_after is not None:
        next_url = request.url.include_query_params(limit=limit, after=page.next_after)
        headers["Link"] = f'<{next_url}>; rel="next"'
    return Response(page.body, media_type=JSON, headers=headers)

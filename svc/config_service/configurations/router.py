"""HTTP routes for configurations: parse, dispatch to the bus, shape the response. Nothing else."""

from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response

from config_service.configurations.commands import (
    CreateConfiguration,
    UpdateConfiguration,
)
from config_service.configurations.models import (
    ConfigurationCreate,
    ConfigurationHistory,
    ConfigurationRead,
    ConfigurationUpdate,
)
from config_service.configurations.queries import GetConfiguration
from config_service.configurations.rollout_routes import (
    CLIENT_PARAMETERS,
    ROLLOUT_PARAMETER,
    report_rejection,
    roll_out,
    rollout_header,
)
from config_service.configurations.rollouts import parse_rollout
from config_service.configurations.schema_links import requested_link
from config_service.configurations.versions import (
    VERSION_HEADERS,
    VERSION_PARAMETERS,
    asked_version,
    count_revisions,
    current_headers,
    current_headers_at,
    resource_path,
    version_read,
)
from config_service.errors import InvalidValue
from config_service.fields import CONFIGURATION_ID_EXAMPLE
from config_service.http.dependencies import (
    PathId,
    RequestRoute,
    bus_of,
    check_body_id,
    check_config_depth,
    check_if_match,
    check_representation_size,
    dry_run_of,
    if_match_header,
    metrics_of,
    settings_of,
)
from config_service.http.openapi_parts import (
    DRY_RUN_PARAMETER,
    READ_PARAMETERS,
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    WRITTEN_HEADERS,
    header,
    header_parameter,
    problem_responses,
    read_responses,
)
from config_service.http.responses import (
    answer_get,
    delivery_of,
    read_conditions,
    representation_response,
)

router = APIRouter(prefix="/configurations", tags=["configurations"], route_class=RequestRoute)

ConfigurationId = PathId("configuration", CONFIGURATION_ID_EXAMPLE)
IfMatch = if_match_header("configuration")
# What a POST or PUT reads itself, besides its declared parameters.
WRITE_PARAMETERS = {
    "parameters": [
        header_parameter(
            "Link",
            'Attach a schema: `</api/v1/configurations/{schema_id}>; rel="describedby"`, '
            "optionally with `?revision=N` to pin one revision; `<>` detaches. Without it a "
            "PUT keeps the attachment. See docs/schemas.md.",
        ),
        DRY_RUN_PARAMETER,
    ]
}


def _link_header(request: Request) -> str | None:
    """Every Link header of the request, as one (RFC 9110 5.3)."""
    values = request.headers.getlist("link")
    return ", ".join(values) if values else None


# Declared first, in the router main.py includes first: routes are tried in order, and this
# is the one runtimes call most.
@router.get(
    "/{id}",
    response_model=None,  # the 200's two shapes are declared in `responses`
    operation_id="getConfiguration",
    summary="Read a configuration, one of its revisions, or its history",
    responses={
        **read_responses(
            "configuration (or that revision); with `?history`, a page of its history",
            VERSION_HEADERS,
            model=ConfigurationRead | ConfigurationHistory,
        ),
        **problem_responses(404, 410, *READ_PROBLEMS),
    },
    openapi_extra={
        "parameters": [
            ConfigurationId.openapi,
            *READ_PARAMETERS["parameters"],
            *VERSION_PARAMETERS,
            *CLIENT_PARAMETERS,
        ]
    },
)
async def get_configuration(request: Request) -> Response:
    """One configuration with its config document. Supports If-None-Match (304),
    `Prefer: wait=N` (watch) and `Cache-Control` (see its parameter). With `?revision=N`,
    that revision as it was; with `?history`, the list of its revisions, newest first."""
    id = ConfigurationId.of(request)
    path = resource_path(request, id)
    asked = asked_version(request.scope["query_string"])
    conditions = read_conditions(request.scope)
    bus = bus_of(request)
    if asked is None:
        if conditions.rejected is not None:  # a report riding on the read (HEAD too)
            await report_rejection(request, id, conditions)
        query = GetConfiguration(id)
        return await answer_get(bus, request, query, current_headers_at(path), conditions)
    # A version is guarded as the plain GET is, by construction: the current representation
    # is read first, as a plain GET reads it (from memory when current).
    current = await bus.dispatch(GetConfiguration(id), delivery_of(request))
    keep = settings_of(request).revisions_keep
    version = version_read(asked, current.representation, conditions, path, keep)
    return await answer_get(bus, request, version.query, version.headers_of, version.conditions)


@router.post(
    "",
    status_code=201,
    response_model=ConfigurationRead,
    operation_id="createConfiguration",
    summary="Create a configuration in an application",
    responses={
        201: {
            "description": "Created: the configuration, as a GET returns it.",
            "headers": {
                **WRITTEN_HEADERS,
                "Location": header("The new configuration's URL."),
                "Revision": VERSION_HEADERS["Revision"],
            },
        },
        **problem_responses(409, *WRITE_PROBLEMS),
    },
    openapi_extra=WRITE_PARAMETERS,
)
async def create_configuration(body: ConfigurationCreate, request: Request) -> Response:
    """Creates a configuration; its name must be new within its application. With a
    `describedby` Link, its config must satisfy that schema."""
    check_config_depth(body.config, settings_of(request))
    check_representation_size(body.representation_size(), settings_of(request))
    if rollout_header(request) is not None:
        raise InvalidValue(
            "Config-Rollout: a new configuration has no current version to roll out from; "
            "create it, then PUT a candidate with Config-Rollout (docs/rollouts.md).",
            loc=("header", "config-rollout"),
        )
    dry_run = dry_run_of(request)
    written = await bus_of(request).dispatch(
        CreateConfiguration(
            application_id=body.application_id,
            name=body.name,
            comments=body.comments,
            config=body.config,
            schema_link=requested_link(_link_header(request)),
        ),
        delivery_of(request, dry_run=dry_run),
    )
    configuration = count_revisions(request, metrics_of(request), written, dry_run)
    location = str(request.url_for("get_configuration", id=configuration.id))
    path = urlsplit(location).path
    headers = {"Location": location, **current_headers(configuration, path)}
    return representation_response(configuration, 201, headers)


@router.put(
    "/{id}",
    response_model=ConfigurationRead,
    operation_id="updateConfiguration",
    summary="Replace a configuration's name, comments and config",
    responses={
        200: {
            "description": "Replaced: the configuration, as a GET returns it.",
            "headers": {**WRITTEN_HEADERS, "Revision": VERSION_HEADERS["Revision"]},
        },
        **problem_responses(404, 409, 412, *WRITE_PROBLEMS),
    },
    openapi_extra={"parameters": [*WRITE_PARAMETERS["parameters"], ROLLOUT_PARAMETER]},
)
async def update_configuration(
    id: ConfigurationId.declared,
    body: ConfigurationUpdate,
    request: Request,
    if_match: IfMatch = None,
) -> Response:
    """Replaces name, comments and config; send If-Match with the ETag you read. The body a
    GET returned may be sent back edited; the configuration stays in its application. Its
    config must satisfy its schema; a schema's new config must be satisfied by those that
    follow it unpinned (else 409)."""
    check_config_depth(body.config, settings_of(request))
    check_representation_size(body.representation_size(), settings_of(request))
    check_body_id(body.id, id)
    check_if_match(if_match)
    dry_run = dry_run_of(request)
    rollout = rollout_header(request)
    if rollout is not None:
        return await roll_out(request, id, body, parse_rollout(rollout), if_match, dry_run)
    written = await bus_of(request).dispatch(
        UpdateConfiguration(
            id=id,
            name=body.name,
            comments=body.comments,
            config=body.config,
            if_match=if_match,
            application_id=body.application_id,
            schema_link=requested_link(_link_header(request)),
        ),
        delivery_of(request, dry_run=dry_run),
    )
    configuration = count_revisions(request, metrics_of(request), written, dry_run)
    path = resource_path(request, configuration.id)
    return representation_response(configuration, headers=current_headers(configuration, path))

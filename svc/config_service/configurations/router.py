"""HTTP routes for configurations: parse, dispatch to the bus, shape the response. Nothing else."""

from fastapi import APIRouter, Request, Response

from config_service.configurations.commands import (
    CreateConfiguration,
    UpdateConfiguration,
)
from config_service.configurations.models import (
    ConfigurationCreate,
    ConfigurationRead,
    ConfigurationUpdate,
)
from config_service.configurations.queries import GetConfiguration
from config_service.dependencies import (
    AppSettings,
    Bus,
    check_body_id,
    check_config_depth,
    if_match_header,
    path_id,
)
from config_service.fields import CONFIGURATION_ID_EXAMPLE
from config_service.openapi_parts import (
    READ_PARAMETERS,
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    WRITTEN_HEADERS,
    header,
    problem_responses,
    read_responses,
)
from config_service.responses import answer_get, representation_response

router = APIRouter(prefix="/configurations", tags=["configurations"])

ConfigurationId = path_id("configuration", CONFIGURATION_ID_EXAMPLE)
IfMatch = if_match_header("configuration")


@router.post(
    "",
    status_code=201,
    response_model=ConfigurationRead,
    operation_id="createConfiguration",
    summary="Create a configuration in an application",
    responses={
        201: {
            "description": "Created: the configuration, as a GET returns it.",
            "headers": {**WRITTEN_HEADERS, "Location": header("The new configuration's URL.")},
        },
        **problem_responses(409, *WRITE_PROBLEMS),
    },
)
async def create_configuration(
    body: ConfigurationCreate, bus: Bus, request: Request, settings: AppSettings
) -> Response:
    """Creates a configuration; its name must be new within its application."""
    check_config_depth(body.config, settings)
    configuration = await bus.dispatch(
        CreateConfiguration(
            application_id=body.application_id,
            name=body.name,
            comments=body.comments,
            config=body.config,
        )
    )
    location = str(request.url_for("get_configuration", id=configuration.id))
    return representation_response(configuration, 201, {"Location": location})


@router.put(
    "/{id}",
    response_model=ConfigurationRead,
    operation_id="updateConfiguration",
    summary="Replace a configuration's name, comments and config",
    responses={
        200: {
            "description": "Replaced: the configuration, as a GET returns it.",
            "headers": WRITTEN_HEADERS,
        },
        **problem_responses(404, 409, 412, *WRITE_PROBLEMS),
    },
)
async def update_configuration(
    id: ConfigurationId,
    body: ConfigurationUpdate,
    bus: Bus,
    settings: AppSettings,
    if_match: IfMatch = None,
) -> Response:
    """Replaces name, comments and config; send If-Match with the ETag you read. The body a
    GET returned may be sent back edited; the configuration stays in its application."""
    check_config_depth(body.config, settings)
    check_body_id(body.id, id)
    configuration = await bus.dispatch(
        UpdateConfiguration(
            id=id,
            name=body.name,
            comments=body.comments,
            config=body.config,
            if_match=if_match,
            application_id=body.application_id,
        )
    )
    return representation_response(configuration)


@router.get(
    "/{id}",
    response_model=ConfigurationRead,
    operation_id="getConfiguration",
    summary="Read a configuration",
    responses={**read_responses("configuration"), **problem_responses(404, *READ_PROBLEMS)},
    openapi_extra=READ_PARAMETERS,
)
async def get_configuration(id: ConfigurationId, bus: Bus, request: Request) -> Response:
    """One configuration with its config document. Supports If-None-Match (304),
    `Prefer: wait=N` (watch) and `Cache-Control` (see its parameter)."""
    query = GetConfiguration(id)
    return await answer_get(bus, request, query)

"""HTTP routes for configurations: parse, dispatch to the bus, shape the response. Nothing else."""

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response

from config_service.bus import Bus
from config_service.configurations.commands import CreateConfiguration, UpdateConfiguration
from config_service.configurations.models import (
    ConfigurationCreate,
    ConfigurationRead,
    ConfigurationUpdate,
)
from config_service.configurations.queries import GetConfiguration
from config_service.errors import READ_PROBLEMS, WRITE_PROBLEMS, problem_responses
from config_service.representation import NOT_MODIFIED
from config_service.revalidation import revalidated_read
from config_service.schema import Ulid

router = APIRouter(prefix="/configurations", tags=["configurations"])

ConfigurationId = Annotated[Ulid, Path(description="The configuration's id.")]
IfMatch = Annotated[
    str | None, Header(description="Apply only if the configuration's ETag is still this one.")
]


@router.post(
    "",
    status_code=201,
    response_model=ConfigurationRead,
    operation_id="createConfiguration",
    summary="Create a configuration in an application",
    responses=problem_responses(409, *WRITE_PROBLEMS),
)
async def create_configuration(body: ConfigurationCreate, bus: Bus, request: Request) -> Response:
    """Creates a configuration; its name must be new within its application."""
    configuration = await bus.dispatch(
        CreateConfiguration(
            application_id=body.application_id,
            name=body.name,
            comments=body.comments,
            config=body.config,
        )
    )
    location = str(request.url_for("get_configuration", id=configuration.id))
    return configuration.response(201, {"Location": location})


@router.put(
    "/{id}",
    response_model=ConfigurationRead,
    operation_id="updateConfiguration",
    summary="Replace a configuration's name, comments and config",
    responses=problem_responses(404, 409, 412, *WRITE_PROBLEMS),
)
async def update_configuration(
    id: ConfigurationId, body: ConfigurationUpdate, bus: Bus, if_match: IfMatch = None
) -> Response:
    """Replaces name, comments and config; send If-Match with the ETag you read."""
    configuration = await bus.dispatch(
        UpdateConfiguration(
            id=id, name=body.name, comments=body.comments, config=body.config, if_match=if_match
        )
    )
    return configuration.response()


@router.get(
    "/{id}",
    response_model=ConfigurationRead,
    operation_id="getConfiguration",
    summary="Read a configuration",
    responses={**NOT_MODIFIED, **problem_responses(404, *READ_PROBLEMS)},
)
async def get_configuration(id: ConfigurationId, bus: Bus, request: Request) -> Response:
    """One configuration with its config document; supports If-None-Match."""
    return await revalidated_read(request, bus, GetConfiguration(id=id))

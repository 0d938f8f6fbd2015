"""What the routers depend on and check: the app-scoped objects, reached only through the
`Annotated` dependencies below (never through `request.app.state` elsewhere), created in
main.py."""

from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.exceptions import RequestValidationError

from config_service.bus import MessageBus
from config_service.errors import InvalidValue
from config_service.fields import Ulid, check_json_document
from config_service.settings import Settings


async def get_bus(request: Request) -> MessageBus:
    """The app's bus. (Async on purpose: FastAPI runs a plain `def` dependency in a thread.)"""
    return request.app.state.bus


Bus = Annotated[MessageBus, Depends(get_bus)]


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was made with (a process may hold apps of different settings)."""
    return request.app.state.settings


AppSettings = Annotated[Settings, Depends(get_app_settings)]


def check_body_id(body_id: str | None, path_id: str) -> None:
    """A GET's body sent back names its resource: it must be the one in the path."""
    if body_id not in (None, path_id):
        raise InvalidValue(f"id must be {path_id}, the id in the path.", loc=("body", "id"))


def check_config_depth(config: dict[str, Any], settings: Settings) -> None:
    """MAX_JSON_DEPTH, with the app's settings in hand: 422 on `config` as if from the schema."""
    try:
        check_json_document(config, max_depth=settings.max_json_depth)
    except ValueError as error:
        loc = ("body", "config")
        raise RequestValidationError(
            [{"type": "value_error", "loc": loc, "msg": f"Value error, {error}", "input": config}]
        ) from None


def path_id(resource: str, example: str) -> Any:
    """The `{id}` path parameter of a resource, documented with an example id."""
    description = f"The {resource}'s id."
    return Annotated[
        Ulid, Path(description=description, openapi_examples={resource: {"value": example}})
    ]


def if_match_header(resource: str) -> Any:
    """The optional If-Match header of a resource's PUT."""
    description = f"Apply only if the {resource}'s ETag is still this one."
    return Annotated[str | None, Header(alias="If-Match", description=description)]

"""What the routers depend on and check: the app-scoped objects, reached only through the
`Annotated` dependencies below (never through `request.app.state` elsewhere), created in
main.py."""

from typing import Annotated

from fastapi import Depends, Request

from config_service.bus import MessageBus
from config_service.errors import InvalidValue


async def get_bus(request: Request) -> MessageBus:
    """The app's bus. (Async on purpose: FastAPI runs a plain `def` dependency in a thread.)"""
    return request.app.state.bus


Bus = Annotated[MessageBus, Depends(get_bus)]


def check_body_id(body_id: str | None, path_id: str) -> None:
    """A GET's body sent back names its resource: it must be the one in the path."""
    if body_id not in (None, path_id):
        raise InvalidValue(f"id must be {path_id}, the id in the path.", loc=("body", "id"))

"""The application resource's request and response shapes."""

from pydantic import BaseModel, Field

from config_service.schema import Comments, Name, RequestBody, Ulid


class ApplicationCreate(RequestBody):
    name: Name
    comments: Comments = ""


class ApplicationUpdate(RequestBody):
    """A full replacement: an omitted `comments` becomes empty."""

    name: Name
    comments: Comments = ""


class ApplicationRead(BaseModel):
    id: Ulid
    name: str
    comments: str
    configuration_ids: list[Ulid] = Field(description="Its configurations' ids, ascending.")

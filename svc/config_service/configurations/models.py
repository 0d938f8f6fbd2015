"""The configuration resource's request and response shapes."""

from typing import Any

from pydantic import BaseModel

from config_service.schema import Comments, ConfigDocument, Name, RequestBody, Ulid


class ConfigurationCreate(RequestBody):
    application_id: Ulid
    name: Name
    comments: Comments = ""
    config: ConfigDocument


class ConfigurationUpdate(RequestBody):
    """A full replacement of name, comments and config; the application cannot change."""

    name: Name
    comments: Comments = ""
    config: ConfigDocument


class ConfigurationRead(BaseModel):
    id: Ulid
    application_id: Ulid
    name: str
    comments: str
    config: dict[str, Any]

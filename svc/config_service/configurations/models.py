"""The configuration resource's request and response shapes."""

from typing import Any

from pydantic import BaseModel, ConfigDict

from config_service.schema import Comments, ConfigDocument, Name, RequestBody, Ulid


EXAMPLE_CONFIG = {"database": {"pool_size": 10, "hosts": ["db-1", "db-2"]}, "dark_mode": True}


class ConfigurationCreate(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "application_id": "01JDQ2ZK3M8N7V6W5X4Y3Z2A1B",
                    "name": "production",
                    "comments": "Live settings",
                    "config": EXAMPLE_CONFIG,
                }
            ]
        }
    )

    application_id: Ulid
    name: Name
    comments: Comments = ""
    config: ConfigDocument


class ConfigurationUpdate(RequestBody):
    """A full replacement of name, comments and config; the application cannot change."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "production", "config": EXAMPLE_CONFIG}]}
    )

    name: Name
    comments: Comments = ""
    config: ConfigDocument


class ConfigurationRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "01JDQ30A4B5C6D7E8F9G0H1J2K",
                    "application_id": "01JDQ2ZK3M8N7V6W5X4Y3Z2A1B",
                    "name": "production",
                    "comments": "Live settings",
                    "config": EXAMPLE_CONFIG,
                }
            ]
        }
    )

    id: Ulid
    application_id: Ulid
    name: str
    comments: str
    config: dict[str, Any]

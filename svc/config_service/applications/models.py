"""The application resource's request and response shapes."""

from pydantic import BaseModel, ConfigDict, Field

from config_service.schema import Comments, Name, RequestBody, Ulid


class ApplicationCreate(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "billing-service", "comments": "Payments team"}]}
    )

    name: Name
    comments: Comments = ""


class ApplicationUpdate(RequestBody):
    """A full replacement: an omitted `comments` becomes empty."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "billing-api", "comments": "Renamed in 2026"}]}
    )

    name: Name
    comments: Comments = ""


class ApplicationRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "01JDQ2ZK3M8N7V6W5X4Y3Z2A1B",
                    "name": "billing-service",
                    "comments": "Payments team",
                    "configuration_ids": ["01JDQ30A4B5C6D7E8F9G0H1J2K"],
                }
            ]
        }
    )

    id: Ulid
    name: str
    comments: str
    configuration_ids: list[Ulid] = Field(description="Its configurations' ids, ascending.")

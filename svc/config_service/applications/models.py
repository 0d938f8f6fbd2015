"""The application resource's request and response shapes: Base, then Create, Update, Read."""

from typing import Annotated, Any

from pydantic import ConfigDict, Field, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from config_service.fields import (
    APPLICATION_ID_EXAMPLE,
    CONFIGURATION_ID_EXAMPLE,
    Comments,
    Name,
    ReadOnlyUlid,
    Strict,
    ULID_JSON_SCHEMA,
)


class ApplicationBase(Strict):
    name: Name
    comments: Comments = ""


class ApplicationCreate(ApplicationBase):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "billing-service", "comments": "Payments team"}]}
    )


# A configuration's representation as its own GET answers it: ConfigurationRead, which this
# resource may not import (the layers keep resources apart), so it is named, not linked.
EmbeddedConfiguration = Annotated[
    Any,
    WithJsonSchema(
        {"type": "object", "description": "A ConfigurationRead: GET /configurations/{id}'s body."}
    ),
]


class ApplicationUpdate(ApplicationBase):
    """A full replacement: an omitted `comments` becomes empty.

    The body a GET returned is accepted as it is, edited: `id` must be this application's,
    and `configuration_ids` is ignored (configurations are added by creating them).
    """

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "billing-api", "comments": "Renamed in 2026"}]}
    )

    id: ReadOnlyUlid | None = Field(default=None, description="If sent, this application's id.")
    # Not validated (it is ignored), but documented as what a GET returned.
    configuration_ids: list[Annotated[Any, WithJsonSchema(ULID_JSON_SCHEMA)]] | None = Field(
        default=None, description="Ignored.", json_schema_extra={"readOnly": True}
    )
    # What a GET ?include=configurations returned: ignored too (configurations have their PUT).
    configurations: list[EmbeddedConfiguration] | None = Field(
        default=None, description="Ignored.", json_schema_extra={"readOnly": True}
    )


class ApplicationRead(ApplicationBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": APPLICATION_ID_EXAMPLE,
                    "name": "billing-service",
                    "comments": "Payments team",
                    "configuration_ids": [CONFIGURATION_ID_EXAMPLE],
                }
            ]
        }
    )

    id: ReadOnlyUlid
    comments: Comments  # always in an answer: required, so generated types need no check
    configuration_ids: list[ReadOnlyUlid] = Field(
        description="Its configurations' ids, ascending.", json_schema_extra={"readOnly": True}
    )
    # Absent without ?include, never null: optional, not nullable, in generated types.
    configurations: list[EmbeddedConfiguration] | SkipJsonSchema[None] = Field(
        default=None,
        description="Only with `?include=configurations`: each configuration as its own GET "
        "answers it (its headers, such as `Revision`, are not repeated), in `configuration_ids` "
        "order.",
        json_schema_extra={"readOnly": True},
    )

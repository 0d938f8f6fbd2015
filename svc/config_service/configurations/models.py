"""The configuration resource's request and response shapes: Base, then Create, Update, Read."""

from pydantic import ConfigDict, Field

from config_service.fields import (
    APPLICATION_ID_EXAMPLE,
    CONFIGURATION_ID_EXAMPLE,
    Comments,
    ConfigDocument,
    Name,
    ReadOnlyUlid,
    Strict,
    Ulid,
)

EXAMPLE_CONFIG = {"database": {"pool_size": 10, "hosts": ["db-1", "db-2"]}, "dark_mode": True}


class ConfigurationBase(Strict):
    name: Name
    comments: Comments = ""
    config: ConfigDocument


class ConfigurationCreate(ConfigurationBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "application_id": APPLICATION_ID_EXAMPLE,
                    "name": "production",
                    "comments": "Live settings",
                    "config": EXAMPLE_CONFIG,
                }
            ]
        }
    )

    application_id: Ulid = Field(description="The application it belongs to, for good.")


class ConfigurationUpdate(ConfigurationBase):
    """A full replacement of name, comments and config.

    The body a GET returned is accepted as it is, edited: `id` must be this configuration's
    and `application_id` its application's (a configuration never moves).
    """

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "production", "config": EXAMPLE_CONFIG}]}
    )

    id: ReadOnlyUlid | None = Field(default=None, description="If sent, this configuration's id.")
    application_id: ReadOnlyUlid | None = Field(
        default=None, description="If sent, the application it belongs to."
    )


class ConfigurationRead(ConfigurationBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": CONFIGURATION_ID_EXAMPLE,
                    "application_id": APPLICATION_ID_EXAMPLE,
                    "name": "production",
                    "comments": "Live settings",
                    "config": EXAMPLE_CONFIG,
                }
            ]
        }
    )

    id: ReadOnlyUlid
    application_id: ReadOnlyUlid

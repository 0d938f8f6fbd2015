"""The configuration resource's request and response shapes: Base, then Create, Update, Read."""

import json

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
from config_service.representation import jsonb_text_size

EXAMPLE_CONFIG = {"database": {"pool_size": 10, "hosts": ["db-1", "db-2"]}, "dark_mode": True}


class ConfigurationBase(Strict):
    name: Name
    comments: Comments = ""
    config: ConfigDocument

    def representation_size(self) -> int:
        """Bytes of the representation a GET would answer once this is stored: row_to_json of
        id, application_id, name, comments and the jsonb config (migration 0007)."""
        ids = "0" * 26  # every id is 26 characters
        fields = {"id": ids, "application_id": ids, "name": self.name, "comments": self.comments}
        envelope = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        return len(envelope.encode()) + len(',"config":') + jsonb_text_size(self.config)


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

"""The configuration resource's request and response shapes: Base, then Create, Update, Read;
and its history's, for the OpenAPI document (the service writes those bytes itself)."""

import json
from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field, RootModel

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
    comments: Comments  # always in an answer: required, so generated types need no check


class RolloutRecord(Strict):
    """How a candidate's rollout runs or ended (docs/rollouts.md)."""

    state: Literal["running", "promoted", "replaced", "aborted"]
    percent: int = Field(ge=0, le=100, description="The current or last percentage.")
    ended_at: datetime | None = Field(description="When it ended; null while it runs.")
    ended_by: str | None = Field(
        description='The token that ended it, "automatic" (max-failures reached, or the '
        "schedule's promotion), or null."
    )
    rejections: int = Field(ge=0, description="Distinct clients that sent Config-Rejected.")
    rejected_by: list[str] = Field(description="A few of them (up to 5), first first.")


class ConfigurationHistoryEntry(Strict):
    """One revision of a configuration, in its history (`?history`)."""

    revision: int = Field(ge=1, examples=[3])
    changed_at: datetime = Field(description="When it was committed, in UTC.")
    changed_by: str | None = Field(
        description="The name of the token that wrote it; null without tokens or for SQL."
    )
    request_id: str | None = Field(description="The X-Request-ID of the write; null for SQL.")
    etag: str = Field(
        description="Its ETag: `?revision=N` answers with it, and a PUT of it with `If-Match`.",
        examples=['"5d0c3f0b8a1e4f6b"'],
    )
    describedby: str | None = Field(
        description="The path of the schema it was made under (`?revision=N` when pinned); "
        "null when none.",
        examples=[f"/api/v1/configurations/{CONFIGURATION_ID_EXAMPLE}"],
    )
    rollout: RolloutRecord | None = Field(
        description="A candidate's rollout (Config-Rollout); null for other revisions."
    )


class ConfigurationHistory(RootModel[list[ConfigurationHistoryEntry]]):
    """A page of a configuration's revisions, newest first; `Link: <…>; rel="next"` names the
    next page while more remain."""

"""Service settings: read from svc/.env, each one overridable by the process environment."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PostgresDsn, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from config_service.access.tokens import digest_of, read_tokens_file

SVC_DIR = Path(__file__).resolve().parent.parent

Tokens = Annotated[frozenset[str], NoDecode]


class Settings(BaseSettings):
    """Everything the service can be told; names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(env_file=SVC_DIR / ".env", extra="ignore", frozen=True)

    database_url: PostgresDsn = Field(
        default="postgresql://postgres:postgres@127.0.0.1:5432/config_service",
        description="PostgreSQL to use; its database is created when missing.",
    )
    database_listen_url: PostgresDsn | None = Field(
        default=None,
        description="PostgreSQL reached directly, for LISTEN and migrations (default: DATABASE_URL).",
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the HTTP server listens on.")
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1, ge=1, le=64, description="Server processes."
    )
    db_pool_size: int = Field(
        default=4, ge=1, le=200, description="Connections, and threads using them, per worker."
    )
    db_pool_queue: int = Field(
        default=64, ge=0, description="Calls per worker that may wait for a connection (503 past)."
    )
    db_pool_wait: float = Field(
        default=1.0,
        gt=0,
        description="Seconds a call may wait for a connection (503 past, when one frees).",
    )
    db_connect_timeout: float = Field(
        default=3.0, gt=0, description="Seconds to wait for a new database connection."
    )
    db_statement_timeout: float = Field(
        default=5.0, gt=0, description="Seconds a single SQL statement may run."
    )
    db_call_watchdog: bool = Field(
        default=True,
        description="End database calls that get no answer within DB_STATEMENT_TIMEOUT + 0.5 s"
        " (503); false only to measure what that costs.",
    )
    shutdown_timeout: float = Field(
        default=30.0, gt=0, description="Seconds in-flight requests get to finish on SIGTERM."
    )
    retry_after: int = Field(
        default=2, ge=1, description="Seconds clients are told to wait when the database is down."
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body accepted (413 above)."
    )
    max_json_depth: int = Field(
        default=32,
        ge=2,
        le=512,
        description="Deepest nesting of objects/arrays accepted in config.",
    )
    api_read_tokens: Tokens = Field(
        default=frozenset(), description="Comma-separated bearer tokens that may read."
    )
    api_write_tokens: Tokens = Field(
        default=frozenset(), description="Comma-separated bearer tokens that may read and write."
    )
    api_tokens_file: Path | None = Field(
        default=None,
        description="TOML file of named, scoped tokens (README: Access); reread on change.",
    )
    read_cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Memory per worker for representations served from memory (0: off).",
    )
    max_wait_seconds: int = Field(
        default=55, ge=1, le=3600, description="Longest a GET with Prefer: wait=N is held."
    )
    max_waiters: int = Field(
        default=10_000, ge=0, description="Held GETs per worker; past that, 304 at once."
    )
    revisions_keep: int = Field(
        default=1000,
        ge=0,
        description="Revisions kept per configuration, the current one always (0: keep all).",
    )
    metrics_enabled: bool = Field(
        default=True, description="Serve /metrics; false records nothing (and saves its cost)."
    )
    rollout_steps: bool = Field(
        default=True,
        description="Take the rollout steps that are due (any instance may); false leaves them "
        "to the others, and this instance sends PostgreSQL nothing unasked.",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1,::1",
        description="Proxies whose X-Forwarded-For/-Proto are trusted (comma-separated, or *).",
    )
    docs_js_url: str = Field(
        default="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js",
        description="Swagger UI's script, for /docs.",
    )
    docs_css_url: str = Field(
        default="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css",
        description="Swagger UI's style sheet, for /docs.",
    )
    redoc_js_url: str = Field(
        default="https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js",
        description="ReDoc's script, for /redoc.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Lowest level logged."
    )
    log_format: Literal["json", "text"] = Field(
        default="json", description="json for machines, text for a terminal."
    )

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("api_read_tokens", "api_write_tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(token.strip() for token in value.split(",") if token.strip())
        return value

    @field_validator("api_tokens_file")
    @classmethod
    def _readable_tokens_file(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        """An unusable file stops start-up here, like any invalid setting, naming the entry."""
        if path is None:
            return None
        file_digests = {token.digest for token in read_tokens_file(path)}
        secrets = info.data.get("api_read_tokens", set()) | info.data.get("api_write_tokens", set())
        if any(digest_of(secret) in file_digests for secret in secrets):
            raise ValueError("a token of API_READ_TOKENS/API_WRITE_TOKENS is also in the file")
        return path

    @property
    def dsn(self) -> str:
        return str(self.database_url)

    @property
    def listen_dsn(self) -> str:
        """The direct road: LISTEN, migrations and database creation need a real session."""
        return str(self.database_listen_url or self.database_url)

    @property
    def listens_elsewhere(self) -> bool:
        """Whether the direct road is another DSN than DATABASE_URL (which may be PgBouncer)."""
        return self.listen_dsn != self.dsn

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_tokens_file or self.api_read_tokens or self.api_write_tokens)


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()

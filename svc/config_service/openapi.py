"""The OpenAPI document: FastAPI's own, plus the problem schema and the bearer scheme."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from config_service.errors import Problem

TAGS = [
    {"name": "applications", "description": "Applications: a unique name and comments."},
    {"name": "configurations", "description": "Named JSON configurations of an application."},
    {"name": "health", "description": "Liveness and readiness probes; never need a token."},
]

DESCRIPTION = """
Write clients provision applications and their configurations; application runtimes read
them. Ids are ULIDs chosen by the service. Every resource response carries a strong `ETag`:
send it back in `If-None-Match` to get `304 Not Modified`, or in `If-Match` on `PUT` so that
two editors cannot overwrite each other (`412`). Errors are `application/problem+json`
(RFC 9457). When tokens are configured, `/api/v1` needs `Authorization: Bearer <token>`.
"""


def _problem_schemas() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**schema.pop("$defs", {}), "Problem": schema}


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` build (once) the document described above."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=DESCRIPTION.strip(),
                routes=app.routes,
                tags=TAGS,
            )
            components = document.setdefault("components", {})
            components.setdefault("schemas", {}).update(_problem_schemas())
            components["securitySchemes"] = {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Needed when API_READ_TOKENS or API_WRITE_TOKENS are set.",
                }
            }
            for path, operations in document["paths"].items():
                if path.startswith("/api/"):
                    for operation in operations.values():
                        operation["security"] = [{"bearerAuth": []}]
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi

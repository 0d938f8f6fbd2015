"""The OpenAPI document: FastAPI's own, plus the problem schema, the bearer scheme (when
tokens are configured) and the headers every response carries; then made to say what client
generators need: one `Config` and one `Ulid` component referenced everywhere, optional
headers as plain strings (FastAPI writes `anyOf [string, null]`, and a generated client then
sends `None`), and no `default` anywhere (a generated client sends a parameter's default on
every call, and generated types make a field with one required): each is said in words."""

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from config_service.fields import ULID_JSON_SCHEMA
from config_service.http.bearer import GUARDED_PREFIXES
from config_service.http.openapi_parts import Problem, header, problem_responses

TAGS = [
    {"name": "applications", "description": "Applications: a unique name and comments."},
    {"name": "configurations", "description": "Named JSON configurations of an application."},
    {"name": "health", "description": "Liveness and readiness probes; never need a token."},
    {"name": "monitoring", "description": "Prometheus metrics of every worker."},
]

DESCRIPTION = """
Write clients provision applications and their configurations; application runtimes read
them. Ids are ULIDs chosen by the service. Every resource response carries a strong `ETag`:
send it back in `If-None-Match` to get `304 Not Modified` (add `Prefer: wait=55` to be
answered the moment it changes), or in `If-Match` on `PUT` so that two editors cannot
overwrite each other (`412`). A `PUT` takes the body a `GET` returned, edited. Unknown body
fields and query parameters are refused (`422`). Errors are `application/problem+json`
(RFC 9457). When tokens are configured, `/api/v1` and `/metrics` need
`Authorization: Bearer <token>` (a read token is enough to read). `HEAD` is answered wherever
`GET` is, and a method a path does not serve is `405` with an `Allow` header.
"""

# Headers some responses carry, by status, besides those each operation declares.
X_REQUEST_ID = header("The request's id: the caller's X-Request-ID if valid, else a new ULID.")
HEADERS_BY_STATUS = {
    "401": {"WWW-Authenticate": header('`Bearer realm="config-service"`.')},
    "503": {"Retry-After": header("Seconds to wait before retrying.", pattern="^[0-9]+$")},
}


def _problem_schemas() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**schema.pop("$defs", {}), "Problem": schema}


# Problems only a guarded operation can answer: documented only when tokens are configured.
TOKEN_PROBLEMS = ("401", "403")
CONFIG = "#/components/schemas/Config"
ULID = "#/components/schemas/Ulid"


def _referenced(schema: Any, components: dict[str, Any]) -> Any:
    """`schema` with every config document and every ULID replaced by a reference to its one
    component (what the field says of itself stays beside the reference)."""
    if isinstance(schema, list):
        return [_referenced(item, components) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("title") == "Config" and schema.get("type") == "object":
        components.setdefault("Config", {k: v for k, v in schema.items() if k != "title"})
        return {"$ref": CONFIG}
    if schema.get("type") == "string" and schema.get("pattern") == ULID_JSON_SCHEMA["pattern"]:
        components.setdefault("Ulid", dict(ULID_JSON_SCHEMA))
        own = {k: v for k, v in schema.items() if k not in ULID_JSON_SCHEMA or k == "description"}
        if own.get("description") == ULID_JSON_SCHEMA["description"]:
            del own["description"]
        return {"$ref": ULID, **own}
    return {key: _referenced(value, components) for key, value in schema.items()}


def _plain_headers(operation: dict[str, Any]) -> None:
    """An optional header is a string that may be absent, not a string or null."""
    for parameter in operation.get("parameters", []):
        schema = parameter["schema"]
        if parameter["in"] == "header" and {"type": "null"} in schema.get("anyOf", []):
            parameter.setdefault("description", schema.get("description"))
            parameter["schema"] = {"type": "string"}


# Where a schema holds other schemas (JSON Schema 2020-12, as OpenAPI 3.1 uses it).
SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
SUBSCHEMAS = ("items", "additionalProperties", "not")


def _move_default(schema: dict[str, Any], described: dict[str, Any]) -> None:
    """Take `default` out of `schema`, and say it in `described`'s description (null goes
    unsaid: it is what absent means)."""
    default = schema.pop("default", None)
    if default is not None:
        said = f"Default: `{json.dumps(default)}`."
        described["description"] = f"{described.get('description', '').rstrip()} {said}".strip()


def _without_defaults(schema: Any) -> None:
    """Move every `default` of `schema` and of the schemas in it into their descriptions."""
    if not isinstance(schema, dict):
        return
    _move_default(schema, schema)
    for name in SUBSCHEMA_LISTS:
        for subschema in schema.get(name, ()):
            _without_defaults(subschema)
    for name in SUBSCHEMAS:
        _without_defaults(schema.get(name))
    for subschema in schema.get("properties", {}).values():
        _without_defaults(subschema)


def _document(app: FastAPI, *, auth_enabled: bool) -> dict[str, Any]:
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
    if auth_enabled:
        components["securitySchemes"] = {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "Needed because API_READ_TOKENS or API_WRITE_TOKENS are set.",
            }
        }
    for schema in components["schemas"].values():
        _without_defaults(schema)
    for path, operations in document["paths"].items():
        for operation in operations.values():
            _plain_headers(operation)
            for parameter in operation.get("parameters", []):
                _move_default(parameter["schema"], parameter)
                _without_defaults(parameter["schema"])
            if not auth_enabled:
                for status in TOKEN_PROBLEMS:
                    operation["responses"].pop(status, None)
            elif path.startswith(GUARDED_PREFIXES):
                operation["security"] = [{"bearerAuth": []}]
                operation["responses"].setdefault("401", problem_responses(401)[401])
            for status, response in operation["responses"].items():
                headers = response.setdefault("headers", {})
                headers.update(HEADERS_BY_STATUS.get(status, {}))
                headers["X-Request-ID"] = X_REQUEST_ID
    shared: dict[str, Any] = {}
    document = _referenced(document, shared)
    document["components"]["schemas"].update(shared)
    return document


def install_openapi(app: FastAPI, *, auth_enabled: bool) -> None:
    """Make `app.openapi()` build (once) the document described above."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app, auth_enabled=auth_enabled)
        return app.openapi_schema

    app.openapi = openapi
    # FastAPI serves the document through a plain Starlette route, which leaves the request
    # log and the metrics no route template to name it by: serve it through an API route.
    path = app.openapi_url
    app.router.routes[:] = [route for route in app.routes if getattr(route, "path", "") != path]
    app.add_api_route(path, lambda: JSONResponse(openapi()), include_in_schema=False)

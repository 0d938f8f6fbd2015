import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from config_service.errors import (
    AlreadyExists,
    DatabaseUnavailable,
    Gone,
    InvalidValue,
    NotFound,
    PreconditionFailed,
)
from config_service.http.openapi_parts import problem_responses
from config_service.http.problems import (
    STATUS_OF,
    UNDECODABLE_BODY,
    install_problem_handlers,
    problem,
)
from config_service.settings import Settings
from config_service.telemetry.ignored import ignored_metrics


class Body(BaseModel):
    name: str


def app_raising(error: Exception) -> TestClient:
    app = FastAPI()
    install_problem_handlers(app, ignored_metrics())

    @app.get("/raise")
    async def raise_it():
        raise error

    @app.post("/validate")
    async def validate(body: Body):
        return body

    @app.put("/validate")
    async def replace(body: Body):
        return body

    return TestClient(app)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("no such thing"), 404),
        (Gone("removed"), 410),
        (AlreadyExists("taken"), 409),
        (PreconditionFailed("stale"), 412),
        (InvalidValue("bad", loc=("body", "application_id")), 422),
        (DatabaseUnavailable("down", reason="unreachable", retry_after=7), 503),
    ],
)
def test_each_domain_error_becomes_its_problem(error, status):
    response = app_raising(error).get("/raise")

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["title"], body["detail"]) == (
        status,
        STATUS_OF[type(error)][1],
        error.detail,
    )
    assert body["type"] == "about:blank"
    assert body["instance"] == "/raise"


def test_invalid_value_names_the_field_and_unavailable_says_when_to_retry():
    invalid = app_raising(InvalidValue("bad", loc=("body", "application_id"))).get("/raise")
    assert invalid.json()["errors"] == [{"loc": ["body", "application_id"], "msg": "bad"}]
    unavailable = app_raising(DatabaseUnavailable("down", reason="unreachable", retry_after=7)).get(
        "/raise"
    )
    assert unavailable.headers["retry-after"] == "7"


def test_validation_errors_list_each_location_and_message():
    response = app_raising(NotFound("unused")).post("/validate", json={"name": 5})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["body", "name"], "msg": "Input should be a valid string"}
    ]


def test_unknown_routes_and_methods_are_problems_too():
    client = app_raising(NotFound("unused"))
    assert client.get("/nowhere").json()["status"] == 404
    wrong_method = client.delete("/raise")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == "application/problem+json"


def test_a_405_allows_every_method_the_path_serves():
    client = app_raising(NotFound("unused"))
    assert client.delete("/validate").headers["allow"] == "POST, PUT"
    assert client.post("/raise").headers["allow"] == "GET, HEAD"


def test_problem_escapes_what_it_echoes():
    scope = {"path": "/x", "state": {"request_id": "R1"}}
    response = problem(scope, 400, 'odd "\ud800" input')
    body = json.loads(response.body)
    assert (body["request_id"], body["title"]) == ("R1", "Bad Request")


def test_problem_responses_document_each_status_with_its_own_example():
    documented = problem_responses(404, 409)
    assert set(documented) == {404, 409}
    for status in (404, 409):
        example = documented[status]["content"]["application/problem+json"]["example"]
        assert example["status"] == status


@pytest.mark.parametrize(
    ("method", "path", "vary"),
    [
        ("GET", "/api/v1/configurations/x", "Accept-Encoding, Prefer, Config-Client"),
        ("HEAD", "/api/v1/applications", "Accept-Encoding, Prefer, Config-Client"),
        ("PUT", "/api/v1/configurations/x", None),  # answers to writes are not cached
        ("GET", "/health/ready", None),  # nothing outside /api/ varies
    ],
)
def test_a_problem_answering_a_get_varies_as_every_answer_of_its_url(method, path, vary):
    """Prefer in the request or not: a cache keys one URL's answers one way."""
    for headers in ([], [(b"prefer", b"wait=5")]):
        scope = {"method": method, "path": path, "headers": headers}
        assert problem(scope, 404, "gone").headers.get("vary") == vary


def test_a_json_syntax_error_says_what_and_where():
    client = app_raising(NotFound("unused"))
    body = b'{\n  "name": "x"\n  "more": 1}'
    response = client.post("/validate", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["body"], "msg": "Invalid JSON: Expecting ',' delimiter: line 3 column 3 (char 18)"}
    ]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "The JSON body is nested too deeply to be parsed: config may nest objects and "
            "arrays at most 7 deep (MAX_JSON_DEPTH).",
        ),
        (
            b'{"name": "\xff\xfe"}',
            "The body is not UTF-8 (byte 0xff at offset 10): send JSON encoded as UTF-8.",
        ),
        (
            b'{"name": ' + b"9" * 5000 + b"}",
            "A number in the body has more than 4,300 digits (the most an integer may have).",
        ),
    ],
    ids=["too deep", "not UTF-8", "too many digits"],
)
def test_an_undecodable_body_is_a_400_naming_what_is_wrong(body, detail):
    """FastAPI's own words are vague; its chained cause tells. Fails if FastAPI changes
    either (http/problems.py UNDECODABLE_BODY)."""
    client = app_raising(NotFound("unused"))
    client.app.state.settings = Settings(_env_file=None, max_json_depth=7)
    response = client.post("/validate", content=body, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["detail"]) == (400, detail)
    assert UNDECODABLE_BODY not in response.text


def test_a_trailing_slash_is_a_problem_naming_the_path_without_it():
    app = FastAPI(redirect_slashes=False)
    install_problem_handlers(app, ignored_metrics())
    app.get("/things")(lambda: {})
    client = TestClient(app)
    response = client.get("/things/", follow_redirects=False)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "/things (without the trailing slash)" in response.json()["detail"]
    assert client.get("/elsewhere/").json()["detail"] == "Not Found"  # nothing to point to

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from config_service.telemetry.ignored import ignored_metrics
from config_service.problems import install_problem_handlers
from config_service.request_log import RequestLogMiddleware


@pytest.fixture
def client():
    app = FastAPI()
    install_problem_handlers(app, ignored_metrics())

    @app.get("/items/{item_id}")
    async def get_item(item_id: str):
        return {"item_id": item_id}

    @app.get("/boom")
    async def boom():
        raise RuntimeError("unexpected")

    app.add_middleware(RequestLogMiddleware, metrics=ignored_metrics())
    return TestClient(app, raise_server_exceptions=False)


def request_lines(caplog) -> list[dict]:
    return [
        r.fields
        for r in caplog.records
        if r.name == "config_service.requests" and r.msg == "request"
    ]


def test_a_generated_request_id_is_echoed_and_logged(client, caplog):
    caplog.set_level(logging.INFO, logger="config_service.requests")
    response = client.get("/items/42")

    request_id = response.headers["x-request-id"]
    assert len(request_id) == 26
    [line] = request_lines(caplog)
    assert line["request_id"] == request_id
    assert (line["method"], line["path"], line["status"]) == ("GET", "/items/{item_id}", 200)
    assert line["duration_ms"] >= 0
    assert line["client"] == "testclient"


@pytest.mark.parametrize(
    ("sent", "kept"), [("abc-123", True), ("x" * 129, False), ("has space", False), ("", False)]
)
def test_only_short_printable_request_ids_are_kept(client, sent, kept):
    echoed = client.get("/items/1", headers={"X-Request-ID": sent}).headers["x-request-id"]
    assert (echoed == sent) is kept


def test_problems_name_the_request_id(client):
    response = client.get("/nowhere", headers={"X-Request-ID": "trace-7"})
    assert response.json()["request_id"] == "trace-7"


def test_an_unhandled_error_is_a_500_problem_logged_once_with_traceback(client, caplog):
    caplog.set_level(logging.INFO)
    response = client.get("/boom", headers={"X-Request-ID": "trace-500"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == "trace-500"
    errors = [r for r in caplog.records if r.exc_info]
    assert len(errors) == 1
    assert errors[0].fields == {"request_id": "trace-500"}
    assert request_lines(caplog)[0]["status"] == 500

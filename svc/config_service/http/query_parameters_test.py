from fastapi import FastAPI
from fastapi.testclient import TestClient

from config_service.http.problems import install_problem_handlers
from config_service.http.query_parameters import QueryParameterMiddleware
from config_service.telemetry.ignored import ignored_metrics


def client() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app, ignored_metrics())

    @app.get("/api/things")
    async def things(limit: int = 10) -> dict:
        return {"limit": limit}

    documented = {
        "parameters": [{"name": "revision", "in": "query"}, {"name": "X", "in": "header"}]
    }

    @app.get("/api/documented", openapi_extra=documented)
    async def reads_its_own_query() -> dict:
        return {}

    @app.get("/outside")
    async def outside() -> dict:
        return {}

    app.add_middleware(QueryParameterMiddleware, routes=app.routes, prefix="/api/")
    return TestClient(app)


def test_known_query_parameters_pass_and_unknown_ones_are_422_naming_each():
    http = client()
    assert http.get("/api/things?limit=3").json() == {"limit": 3}
    refused = http.get("/api/things?limit=3&lmit=4&colour=blue")
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert [e["loc"] for e in refused.json()["errors"]] == [["query", "lmit"], ["query", "colour"]]


def test_paths_outside_the_prefix_and_unknown_paths_are_left_alone():
    http = client()
    assert http.get("/outside?anything=1").status_code == 200
    assert http.get("/api/nowhere?x=1").status_code == 404


def test_query_parameters_a_route_documents_itself_are_known():
    http = client()
    assert http.get("/api/documented?revision=3").status_code == 200
    refused = http.get("/api/documented?revision=3&X=1")  # a header's name is no parameter
    assert [e["loc"] for e in refused.json()["errors"]] == [["query", "X"]]

import pytest
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from config_service.errors import InvalidValue
from config_service.fields import CONFIGURATION_ID_EXAMPLE
from config_service.http.dependencies import (
    PathId,
    RequestRoute,
    check_body_id,
    check_config_depth,
    if_match_header,
    settings_of,
)
from conftest import make_settings

ThingId = PathId("thing", CONFIGURATION_ID_EXAMPLE)
ThingIfMatch = if_match_header("thing")


def small_app(max_json_depth: int) -> FastAPI:
    """An app holding only settings, with one route using what is under test."""
    app = FastAPI()
    app.state.settings = make_settings("postgresql://unused/x", max_json_depth=max_json_depth)

    @app.put("/things/{id}")
    async def put_thing(id: ThingId.declared, request: Request, if_match: ThingIfMatch = None):
        max_json_depth = settings_of(request).max_json_depth
        return {"id": id, "if_match": if_match, "max_json_depth": max_json_depth}

    @app.get("/things/{id}", openapi_extra={"parameters": [ThingId.openapi]})
    async def get_thing(request: Request):
        return {"id": ThingId.of(request)}

    return app


def test_the_path_id_is_canonical_upper_case_and_if_match_is_read():
    with TestClient(small_app(max_json_depth=7)) as client:
        response = client.put(
            f"/things/{CONFIGURATION_ID_EXAMPLE.lower()}", headers={"If-Match": '"abc"'}
        )
    assert response.status_code == 200
    assert response.json() == {
        "id": CONFIGURATION_ID_EXAMPLE,
        "if_match": '"abc"',
        "max_json_depth": 7,
    }


def test_a_path_id_read_by_hand_is_canonical_upper_case_too():
    with TestClient(small_app(max_json_depth=7)) as client:
        response = client.get(f"/things/{CONFIGURATION_ID_EXAMPLE.lower()}")
    assert response.status_code == 200
    assert response.json() == {"id": CONFIGURATION_ID_EXAMPLE}


@pytest.mark.parametrize("method", ["GET", "PUT"])
@pytest.mark.parametrize("bad_id", ["not-a-ulid", "8" + CONFIGURATION_ID_EXAMPLE[1:]])
def test_a_path_id_that_is_no_ulid_is_refused_the_same_declared_or_read(method, bad_id):
    # (Without the app's problem handlers: FastAPI's own 422, whose `detail` they reshape.)
    with TestClient(small_app(max_json_depth=7)) as client:
        response = client.request(method, f"/things/{bad_id}")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["path", "id"]
    assert error["input"] == bad_id


def test_a_path_id_is_documented_the_same_declared_or_read():
    paths = small_app(max_json_depth=7).openapi()["paths"]["/things/{id}"]
    [declared] = [p for p in paths["put"]["parameters"] if p["in"] == "path"]
    assert paths["get"]["parameters"] == [ThingId.openapi]
    assert ThingId.openapi == declared


def test_the_path_id_and_if_match_are_documented_for_their_resource():
    parameters = small_app(max_json_depth=7).openapi()["paths"]["/things/{id}"]["put"]["parameters"]
    by_name = {parameter["name"]: parameter for parameter in parameters}
    assert by_name["id"]["description"] == "The thing's id."
    assert by_name["id"]["examples"] == {"thing": {"value": CONFIGURATION_ID_EXAMPLE}}
    assert by_name["If-Match"]["in"] == "header"
    assert by_name["If-Match"]["required"] is False
    assert "thing's ETag" in by_name["If-Match"]["description"]


def test_a_body_id_must_be_absent_or_the_paths():
    check_body_id(None, CONFIGURATION_ID_EXAMPLE)
    check_body_id(CONFIGURATION_ID_EXAMPLE, CONFIGURATION_ID_EXAMPLE)
    with pytest.raises(InvalidValue) as raised:
        check_body_id("01ARZ3NDEKTSV4RRFFQ69G5FAV", CONFIGURATION_ID_EXAMPLE)
    assert raised.value.loc == ("body", "id")
    assert CONFIGURATION_ID_EXAMPLE in str(raised.value)


def test_config_depth_follows_the_settings_given():
    nested = {"a": {"b": {"c": 1}}}  # three objects deep
    check_config_depth(nested, make_settings("postgresql://unused/x", max_json_depth=3))
    with pytest.raises(RequestValidationError) as raised:
        check_config_depth(nested, make_settings("postgresql://unused/x", max_json_depth=2))
    [error] = raised.value.errors()
    assert error["loc"] == ("body", "config")
    assert "deeper than 2" in error["msg"]


def routed_app(route_class) -> FastAPI:
    """Three endpoints: of the Request alone, returning a Response or not, and one with a
    query parameter that FastAPI must solve."""
    router = APIRouter(route_class=route_class)

    @router.get("/alone", summary="Alone", responses={404: {"description": "Missing."}})
    async def alone(request: Request) -> Response:
        return Response(request.url.path.encode(), headers={"X-Seen": "yes"})

    @router.get("/not-a-response")
    async def not_a_response(request: Request) -> Response:
        return {"not": "a response"}  # type: ignore[return-value]

    @router.get("/counted")
    async def counted(request: Request, n: int = 1) -> dict[str, int]:
        return {"n": n}

    app = FastAPI()
    app.include_router(router)
    return app


def test_a_request_route_calls_an_endpoint_of_the_request_alone_directly():
    app = routed_app(RequestRoute)
    handlers = {r.path: r.get_route_handler() for r in app.routes if isinstance(r, APIRoute)}
    assert handlers["/alone"].__qualname__.startswith("RequestRoute.")  # not FastAPI's
    assert not handlers["/counted"].__qualname__.startswith("RequestRoute.")
    client = TestClient(app, raise_server_exceptions=True)
    answered = client.get("/alone")
    assert (answered.status_code, answered.content, answered.headers["x-seen"]) == (
        200,
        b"/alone",
        "yes",
    )
    with pytest.raises(TypeError, match="must return a Response"):
        client.get("/not-a-response")  # FastAPI would have serialised it


def test_other_endpoints_of_a_request_route_keep_fastapis_parameters():
    client = TestClient(routed_app(RequestRoute))
    assert client.get("/counted?n=3").json() == {"n": 3}
    assert client.get("/counted?n=x").status_code == 422


def test_a_request_route_is_documented_as_an_api_route_is():
    assert routed_app(RequestRoute).openapi() == routed_app(APIRoute).openapi()


def test_request_route_reads_every_kind_of_parameter_fastapi_s_dependant_has():
    """RequestRoute decides from the Dependant's fields (FastAPI internals, 0.116.1): a field
    added or renamed by another FastAPI must fail here, not silently skip a parameter."""
    import dataclasses
    import inspect as inspecting

    from fastapi.dependencies.models import Dependant

    from config_service.http import dependencies

    source = inspecting.getsource(dependencies._takes_the_request_alone)
    parameter_kinds = {
        field.name
        for field in dataclasses.fields(Dependant)
        if field.name.endswith(("_params", "_param_name", "dependencies", "_requirements"))
    }
    assert parameter_kinds == {
        name for name in parameter_kinds if f"dependant.{name}" in source
    }, "a kind of parameter RequestRoute does not look at"
    assert hasattr(APIRoute, "get_route_handler")

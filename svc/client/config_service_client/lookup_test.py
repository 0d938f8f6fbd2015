"""Finding a configuration by its application's and its own name, and reading an application
whole, on a stand-in service."""

import httpx
import pytest

from config_service_client.lookup import (
    by_name,
    configs_by_name,
    find_application,
    find_configuration,
    read_whole,
)
from config_service_client.service import FatalError, ServiceError

APPLICATIONS = [{"id": "A1", "name": "shop", "configuration_ids": ["C1", "C2"]}]
CONFIGURATIONS = {
    "C1": {"id": "C1", "application_id": "A1", "name": "prod", "comments": "", "config": {"a": 1}},
    "C2": {"id": "C2", "application_id": "A1", "name": "dev", "comments": "", "config": {"a": 2}},
}


def service(request: httpx.Request) -> httpx.Response:
    requested.append(request)
    if request.url.path == "/api/v1/applications":
        name = request.url.params["name"]
        return httpx.Response(200, json=[a for a in APPLICATIONS if a["name"] == name])
    id = request.url.path.rsplit("/", 1)[-1]
    if request.url.path.startswith("/api/v1/applications/"):  # read whole
        assert request.url.params["include"] == "configurations"
        application = next(a for a in APPLICATIONS if a["id"] == id)
        if "BROKEN" in application["configuration_ids"]:
            return httpx.Response(503, json={"detail": "busy"})
        items = [CONFIGURATIONS[c] for c in application["configuration_ids"]]
        return httpx.Response(200, json={**application, "configurations": items})
    return httpx.Response(200, json=CONFIGURATIONS[id], headers={"ETag": f'"{id}"'})


requested: list[httpx.Request] = []


def connected() -> httpx.Client:
    return httpx.Client(
        base_url="http://service/api/v1", transport=httpx.MockTransport(service), timeout=5
    )


def test_a_configuration_is_found_by_both_names_in_three_requests_however_many_it_has():
    requested.clear()
    with connected() as http:
        found = find_configuration(http, "shop", "dev")
    assert found.json()["id"] == "C2" and found.headers["ETag"] == '"C2"'
    assert [request.url.path.rsplit("/", 1)[-1] for request in requested] == [
        "applications",  # the application's name
        "A1",  # read whole: the configuration's id, by its name
        "C2",  # its own GET, for its headers
    ]


def test_an_application_read_whole_gives_its_configurations_by_name():
    with connected() as http:
        application = read_whole(http, "A1")
    assert by_name(application) == {"prod": CONFIGURATIONS["C1"], "dev": CONFIGURATIONS["C2"]}
    assert configs_by_name(application) == {"prod": {"a": 1}, "dev": {"a": 2}}


def test_an_unknown_application_or_configuration_is_a_404_naming_it():
    with connected() as http:
        assert find_application(http, "nope") is None
        with pytest.raises(FatalError, match="no application named 'nope'") as raised:
            find_configuration(http, "nope", "dev")
        assert raised.value.status == 404
        with pytest.raises(FatalError, match="no configuration 'test' in the application 'shop'"):
            find_configuration(http, "shop", "test")


def test_a_failed_read_raises_what_the_service_said(monkeypatch):
    monkeypatch.setitem(APPLICATIONS[0], "configuration_ids", ["BROKEN"])
    with connected() as http, pytest.raises(ServiceError, match="503 busy") as raised:
        find_configuration(http, "shop", "prod")
    assert not isinstance(raised.value, FatalError)

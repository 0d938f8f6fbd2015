"""ETags end to end: revalidation with If-None-Match, and no lost updates with If-Match."""

import pytest

from config_service.main import create_app
from test.concurrency import send_together
from test.live_server import LiveServer
from test.random_refs import random_name


@pytest.fixture
def application(client) -> dict:
    response = client.post("/api/v1/applications", json={"name": random_name("app")})
    return {
        "location": response.headers["location"],
        "etag": response.headers["etag"],
        **response.json(),
    }


@pytest.fixture
def configuration(client, application) -> dict:
    response = client.post(
        "/api/v1/configurations",
        json={"application_id": application["id"], "name": random_name("cfg"), "config": {"v": 0}},
    )
    return {
        "location": response.headers["location"],
        "etag": response.headers["etag"],
        **response.json(),
    }


@pytest.mark.parametrize("resource", ["application", "configuration"])
def test_a_current_etag_revalidates_to_304_without_a_body(client, request, resource):
    created = request.getfixturevalue(resource)

    fresh = client.get(created["location"])
    assert fresh.headers["etag"] == created["etag"]
    assert fresh.headers["cache-control"] == "no-cache"

    revalidated = client.get(created["location"], headers={"If-None-Match": created["etag"]})
    assert (revalidated.status_code, revalidated.content) == (304, b"")
    assert revalidated.headers["etag"] == created["etag"]


def test_an_application_etag_changes_when_a_configuration_is_added(client, application):
    client.post(
        "/api/v1/configurations",
        json={"application_id": application["id"], "name": random_name(), "config": {}},
    )
    response = client.get(application["location"], headers={"If-None-Match": application["etag"]})
    assert response.status_code == 200
    assert response.headers["etag"] != application["etag"]


def test_put_answers_with_the_new_etag(client, configuration):
    response = client.put(
        configuration["location"],
        json={"name": configuration["name"], "config": {"v": 1}},
        headers={"If-Match": configuration["etag"]},
    )
    assert response.status_code == 200
    assert response.headers["etag"] == client.get(configuration["location"]).headers["etag"]
    assert response.headers["etag"] != configuration["etag"]


@pytest.mark.parametrize("resource", ["application", "configuration"])
def test_a_stale_if_match_is_412_and_changes_nothing(client, request, resource):
    created = request.getfixturevalue(resource)
    body = {"name": random_name()} | ({"config": {"v": 9}} if resource == "configuration" else {})
    client.put(created["location"], json=body)  # someone else's edit
    current = client.get(created["location"]).json()

    response = client.put(
        created["location"],
        json=body | {"name": random_name()},
        headers={"If-Match": created["etag"]},
    )

    assert response.status_code == 412
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get(created["location"]).json() == current


@pytest.mark.parametrize("resource", ["application", "configuration"])
def test_two_concurrent_editors_with_one_etag_exactly_one_wins(settings, client, request, resource):
    created = request.getfixturevalue(resource)
    path = created["location"].removeprefix("http://testserver")
    edits = [
        {"name": random_name(f"editor{n}")}
        | ({"config": {"editor": n}} if resource == "configuration" else {})
        for n in range(2)
    ]
    with LiveServer(create_app(settings)) as server:
        responses = send_together(
            server.url,
            [
                ("PUT", path, {"json": edit, "headers": {"If-Match": created["etag"]}})
                for edit in edits
            ],
        )

    statuses = [response.status_code for response in responses]
    assert sorted(statuses) == [200, 412]
    winner = edits[statuses.index(200)]
    assert client.get(path).json()["name"] == winner["name"]


@pytest.mark.parametrize("resource", ["application", "configuration"])
def test_an_if_match_without_quotes_is_422_naming_the_form_and_writes_nothing(
    client, request, resource
):
    created = request.getfixturevalue(resource)
    before = client.get(created["location"])
    body = {"name": random_name()} | ({"config": {"v": 9}} if resource == "configuration" else {})
    unquoted = created["etag"].strip('"')  # as a shell script that lost the quotes sends it
    response = client.put(created["location"], json=body, headers={"If-Match": unquoted})
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"] == [{"loc": ["header", "If-Match"], "msg": problem["detail"]}]
    assert 'double quotes included (e.g. If-Match: "' in problem["detail"]
    assert client.get(created["location"]).content == before.content


def test_a_weak_if_match_is_412_saying_why_it_can_never_match(client, configuration):
    response = client.put(
        configuration["location"],
        json={"name": configuration["name"], "config": {"v": 1}},
        headers={"If-Match": f"W/{configuration['etag']}"},
    )
    assert response.status_code == 412
    assert "compares entity-tags strongly" in response.json()["detail"]


@pytest.mark.parametrize("wait", [None, "wait=5"])
def test_an_if_none_match_without_quotes_is_422_not_an_answer_or_a_hold(
    client, configuration, wait
):
    headers = {"If-None-Match": configuration["etag"].strip('"')}
    if wait:
        headers["Prefer"] = wait  # without the check it would never be held: a storm
    response = client.get(configuration["location"], headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["header", "If-None-Match"]

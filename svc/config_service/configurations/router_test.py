import json

import pytest
from fastapi.testclient import TestClient

from config_service.configurations.models import ConfigurationCreate
from config_service.main import create_app
from conftest import make_settings
from test.concurrency import send_together
from test.live_server import LiveServer
from test.random_refs import MISSING_ID, random_name

API = "/api/v1/configurations"

ROUND_TRIP_CONFIG = {
    "nested": {"deeper": {"deepest": [1, [2, [3, {"four": 4}]]]}},
    "array": [1, "two", 3.5, None, True, False, {}, []],
    "unicode": "ünïcödé ✓ 日本語 😀",
    "escapes": 'quote " backslash \\ newline \n tab \t',
    "big_integer": 123456789012345678901234567890,
    "negative": -17,
    "float": 0.1,
    "exponent": 1.5e-300,
    "empty_string": "",
    "null": None,
}


@pytest.fixture
def application_id(client) -> str:
    response = client.post("/api/v1/applications", json={"name": random_name("app")})
    assert response.status_code == 201
    return response.json()["id"]


@pytest.fixture
def configuration(client, application_id) -> dict:
    return create(client, application_id, config={"dark_mode": False}).json()


def create(client, application_id, **body):
    body = {"application_id": application_id, "name": random_name("cfg"), "config": {}, **body}
    response = client.post(API, json=body)
    assert response.status_code == 201, response.text
    return response


def test_create_answers_201_with_location_etag_and_the_configuration(client, application_id):
    name = random_name("cfg")
    response = client.post(
        API,
        json={"application_id": application_id, "name": name, "config": {"timeout_ms": 2500}},
    )

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "application_id": application_id,
        "name": name,
        "comments": "",
        "config": {"timeout_ms": 2500},
    }
    assert response.headers["location"].endswith(f"{API}/{body['id']}")
    assert response.headers["etag"] == client.get(f"{API}/{body['id']}").headers["etag"]


def test_config_round_trips_exactly(client, application_id):
    created = create(client, application_id, config=ROUND_TRIP_CONFIG).json()

    fetched = client.get(f"{API}/{created['id']}")

    assert created["config"] == ROUND_TRIP_CONFIG
    assert fetched.json()["config"] == ROUND_TRIP_CONFIG
    # Exact digits, not a float approximation of the big integer.
    assert "123456789012345678901234567890" in fetched.text


def test_the_application_id_may_be_lower_case(client, application_id):
    response = create(client, application_id.lower())
    assert response.json()["application_id"] == application_id


def test_an_unknown_application_is_422_naming_the_field(client):
    response = client.post(
        API, json={"application_id": MISSING_ID, "name": random_name("cfg"), "config": {}}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["body", "application_id"], "msg": f"No application has id {MISSING_ID}."}
    ]


def test_a_name_taken_in_the_same_application_is_409(client, application_id):
    name = random_name("cfg")
    create(client, application_id, name=name)

    response = client.post(API, json={"application_id": application_id, "name": name, "config": {}})

    assert response.status_code == 409
    application = client.get(f"/api/v1/applications/{application_id}").json()
    assert len(application["configuration_ids"]) == 1


def test_the_same_name_in_two_applications_is_fine(client, application_id):
    other = client.post("/api/v1/applications", json={"name": random_name("app")}).json()["id"]
    name = random_name("cfg")

    create(client, application_id, name=name)
    create(client, other, name=name)


@pytest.mark.parametrize("config", [[], [1, 2], "text", 42, None, True])
def test_config_must_be_an_object(client, application_id, config):
    response = client.post(
        API, json={"application_id": application_id, "name": random_name("cfg"), "config": config}
    )
    assert response.status_code == 422
    assert ["body", "config"] in [error["loc"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "no-config"},
        {"config": {}},
        {"name": "x", "config": {}, "application_id": "nope"},
        {"name": "x", "config": {}, "unknown": 1},
    ],
)
def test_incomplete_or_unknown_fields_are_422(client, application_id, body):
    response = client.post(API, json={"application_id": application_id, **body})
    assert response.status_code == 422


def test_get_of_an_unknown_id_is_404_and_a_malformed_one_422(client):
    assert client.get(f"{API}/{MISSING_ID}").status_code == 404
    assert client.get(f"{API}/abc").status_code == 422


def test_update_replaces_name_comments_and_config(client, application_id):
    created = create(client, application_id, comments="old", config={"a": 1}).json()
    name = random_name("cfg")

    response = client.put(f"{API}/{created['id']}", json={"name": name, "config": {"b": [2]}})

    assert response.status_code == 200
    expected = {**created, "name": name, "comments": "", "config": {"b": [2]}}
    assert response.json() == expected
    assert client.get(f"{API}/{created['id']}").json() == expected


def test_update_cannot_move_a_configuration(client, application_id):
    created = create(client, application_id).json()
    response = client.put(
        f"{API}/{created['id']}",
        json={"application_id": MISSING_ID, "name": created["name"], "config": {}},
    )
    assert response.status_code == 422


def test_update_of_an_unknown_id_is_404(client):
    response = client.put(f"{API}/{MISSING_ID}", json={"name": "x", "config": {}})
    assert response.status_code == 404


def test_update_to_a_name_taken_in_the_application_is_409(client, application_id):
    taken = create(client, application_id).json()["name"]
    created = create(client, application_id).json()

    response = client.put(f"{API}/{created['id']}", json={"name": taken, "config": {}})

    assert response.status_code == 409
    assert client.get(f"{API}/{created['id']}").json() == created


def test_non_finite_numbers_are_422(client, application_id):
    for literal in ("NaN", "Infinity", "-Infinity", "1e400"):
        raw = (
            f'{{"application_id": "{application_id}", "name": "{random_name()}",'
            f' "config": {{"x": {literal}}}}}'
        )
        response = client.post(API, content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 422, literal


def test_concurrent_creates_of_one_name_in_one_application_give_one_201(settings, client):
    application_id = client.post("/api/v1/applications", json={"name": random_name()}).json()["id"]
    body = {"application_id": application_id, "name": random_name(), "config": {}}
    with LiveServer(create_app(settings)) as server:
        responses = send_together(server.url, [("POST", API, {"json": body})] * 4)

    assert sorted(response.status_code for response in responses) == [201, 409, 409, 409]


# --- what a GET returned, edited and PUT back ----------------------------------------------


def test_a_gets_body_edited_and_put_back_is_accepted(client, configuration):
    body = client.get(f"{API}/{configuration['id']}").json()
    body["config"]["dark_mode"] = True

    response = client.put(f"{API}/{configuration['id']}", json=body)

    assert response.status_code == 200, response.text
    assert response.json() == body
    assert client.get(f"{API}/{configuration['id']}").json() == body


def test_a_put_back_body_naming_another_id_or_application_is_422_and_changes_nothing(
    client, configuration
):
    other_application = client.post("/api/v1/applications", json={"name": random_name()}).json()
    for field, value, message in (
        ("id", MISSING_ID, "id must be"),
        ("application_id", other_application["id"], "cannot move to another application"),
    ):
        response = client.put(
            f"{API}/{configuration['id']}", json={**configuration, field: value, "name": "moved"}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", field]
        assert message in response.json()["errors"][0]["msg"]
    assert client.get(f"{API}/{configuration['id']}").json() == configuration


def test_head_answers_a_gets_headers_without_its_body(client, configuration):
    path = f"{API}/{configuration['id']}"
    get, head = client.get(path), client.head(path)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == str(len(get.content))
    assert client.head(f"{API}/{MISSING_ID}").status_code == 404


def test_a_method_the_path_does_not_serve_is_405_listing_those_it_does(client, configuration):
    response = client.delete(f"{API}/{configuration['id']}")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, PUT"
    assert client.delete(API).headers["allow"] == "POST"


def test_every_answer_to_a_get_of_a_configuration_url_varies_alike(client, configuration):
    """200, 304, 404, 422, revision and history: Prefer sent or not, gzip accepted or not."""
    path = f"{API}/{configuration['id']}"
    urls = [path, f"{path}?revision=1", f"{path}?history", f"{path}?limit=5"]
    urls += [f"{API}/{MISSING_ID}", f"{API}/not-an-id"]
    for url in urls:
        for headers in (
            {},
            {"Prefer": "wait=0"},
            {"If-None-Match": "*"},
            {"Accept-Encoding": "gzip"},
        ):
            answer = client.get(url, headers=headers)
            assert answer.headers["vary"] == "Accept-Encoding, Prefer, Config-Client", (
                url,
                headers,
            )


@pytest.mark.parametrize(
    "body",
    [
        {"name": "plain", "config": {}},
        {"name": "round trip", "comments": 'say "hi"\n\u0001', "config": ROUND_TRIP_CONFIG},
        {"name": "ünï ✓", "config": {"b": [1e2, 1.5e-7, 1e300, -2.5e-5, 1e16], "a": {"x": None}}},
        {"name": "escapes", "config": {"k\u001f\\": '/\u007f\u00e9\u2028"', "e-1": "e+2"}},
    ],
    ids=["empty", "round trip", "exponents", "escapes"],
)
def test_the_representation_size_is_what_postgresql_renders(client, application_id, body):
    """ConfigurationBase.representation_size predicts the bytes of the GET, which the size
    check relies on (a GET's body must fit in a PUT): numbers spelt out, spaces added."""
    created = create(client, application_id, **body).json()
    fetched = client.get(f"{API}/{created['id']}")
    expected = ConfigurationCreate(application_id=application_id, **body).representation_size()
    assert len(fetched.content) == expected, fetched.text


def test_a_write_whose_get_would_not_fit_in_a_put_is_413_and_what_is_stored_always_fits(
    database_url,
):
    limit = 2048
    with TestClient(create_app(make_settings(database_url, max_body_bytes=limit))) as client:
        application = client.post("/api/v1/applications", json={"name": random_name()}).json()
        # 1,500 bytes sent, 2,400 rendered ("[0, 0, ...]", with spaces), or far more (1e300).
        for config in ({"list": [0] * 700}, {"n": [1e300] * 10}):
            body = {"application_id": application["id"], "name": "big", "config": config}
            assert len(json.dumps(body, separators=(",", ":"))) < limit
            refused = client.post(API, json=body)
            assert refused.status_code == 413, refused.text
            assert "a GET's body must fit in a PUT" in refused.json()["detail"]
        fits = {"application_id": application["id"], "name": "fits", "config": {"l": [0] * 600}}
        created = client.post(API, json=fits)
        assert created.status_code == 201
        grown = client.put(created.headers["location"], json={**fits, "config": {"l": [0] * 700}})
        assert grown.status_code == 413
        current = client.get(created.headers["location"])
        put_back = client.put(
            created.headers["location"],
            content=current.content,
            headers={"content-type": "application/json"},
        )
        assert len(current.content) <= limit and put_back.status_code == 200

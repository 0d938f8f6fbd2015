import re

import pytest

from config_service.main import create_app
from test.concurrency import send_together
from test.live_server import LiveServer
from test.random_refs import MISSING_ID, random_name

API = "/api/v1/applications"
ULID_TEXT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def create(client, **body):
    body.setdefault("name", random_name("app"))
    response = client.post(API, json=body)
    assert response.status_code == 201, response.text
    return response


def add_configuration(client, application_id: str) -> str:
    response = client.post(
        "/api/v1/configurations",
        json={"application_id": application_id, "name": random_name("cfg"), "config": {}},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_create_answers_201_with_location_etag_and_the_application(client):
    name = random_name("app")
    response = client.post(API, json={"name": name, "comments": "owned by payments"})

    assert response.status_code == 201
    body = response.json()
    assert ULID_TEXT.match(body["id"])
    assert body == {
        "id": body["id"],
        "name": name,
        "comments": "owned by payments",
        "configuration_ids": [],
    }
    assert response.headers["location"].endswith(f"{API}/{body['id']}")
    assert response.headers["etag"].startswith('"')
    assert client.get(response.headers["location"]).json() == body


def test_comments_default_to_empty(client):
    assert create(client).json()["comments"] == ""


def test_a_taken_name_is_409_and_nothing_is_added(client):
    name = random_name("app")
    create(client, name=name)

    response = client.post(API, json={"name": name})

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Already exists"
    listed = client.get(API, params={"limit": 1000}).json()
    assert [app["name"] for app in listed].count(name) == 1


def test_get_lists_configuration_ids_in_ascending_order(client):
    application_id = create(client).json()["id"]
    configuration_ids = [add_configuration(client, application_id) for _ in range(3)]

    body = client.get(f"{API}/{application_id}").json()

    assert body["configuration_ids"] == sorted(configuration_ids)


def test_get_accepts_a_lower_case_id_and_answers_canonically(client):
    application_id = create(client).json()["id"]

    response = client.get(f"{API}/{application_id.lower()}")

    assert response.status_code == 200
    assert response.json()["id"] == application_id


@pytest.mark.parametrize("bad_id", ["not-a-ulid", "0" * 25, "U" * 26, "8" + "0" * 25])
def test_a_malformed_id_is_422(client, bad_id):
    response = client.get(f"{API}/{bad_id}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "id"]


def test_an_unknown_id_is_404(client):
    response = client.get(f"{API}/{MISSING_ID}")
    assert response.status_code == 404
    assert MISSING_ID in response.json()["detail"]


def test_update_replaces_name_and_comments(client):
    created = create(client, comments="old").json()
    new_name = random_name("renamed")

    response = client.put(f"{API}/{created['id']}", json={"name": new_name})

    assert response.status_code == 200
    assert response.json() == {**created, "name": new_name, "comments": ""}
    assert response.headers["etag"] != ""
    assert client.get(f"{API}/{created['id']}").json()["name"] == new_name


def test_update_keeps_configuration_ids(client):
    application_id = create(client).json()["id"]
    configuration_id = add_configuration(client, application_id)

    response = client.put(f"{API}/{application_id}", json={"name": random_name("app")})

    assert response.json()["configuration_ids"] == [configuration_id]


def test_update_of_an_unknown_id_is_404(client):
    response = client.put(f"{API}/{MISSING_ID}", json={"name": random_name("app")})
    assert response.status_code == 404


def test_update_to_a_taken_name_is_409_and_changes_nothing(client):
    taken = create(client).json()["name"]
    application = create(client).json()

    response = client.put(f"{API}/{application['id']}", json={"name": taken})

    assert response.status_code == 409
    assert client.get(f"{API}/{application['id']}").json() == application


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "name"]),
        ({"name": ""}, ["body", "name"]),
        ({"name": "   "}, ["body", "name"]),
        ({"name": "x" * 257}, ["body", "name"]),
        ({"name": 42}, ["body", "name"]),
        ({"name": "ok", "comments": "c" * 1025}, ["body", "comments"]),
        ({"name": "ok", "comments": None}, ["body", "comments"]),
        ({"name": "ok", "nmae": "typo"}, ["body", "nmae"]),
        ({"name": "nul\u0000inside"}, ["body", "name"]),
    ],
)
def test_invalid_bodies_are_422_naming_the_field(client, body, loc):
    for response in (
        client.post(API, json=body),
        client.put(f"{API}/{create(client).json()['id']}", json=body),
    ):
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert loc in [error["loc"] for error in response.json()["errors"]]


def test_longest_allowed_values_are_stored(client):
    name = random_name("n").ljust(256, "x")
    body = create(client, name=name, comments="c" * 1024).json()
    assert (len(body["name"]), len(body["comments"])) == (256, 1024)


def test_list_pages_in_id_order_with_a_next_link(client):
    for _ in range(3):
        create(client)
    everything = client.get(API, params={"limit": 1000}).json()
    assert [app["id"] for app in everything] == sorted(app["id"] for app in everything)

    seen, url = [], f"{API}?limit=2"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.json()
        assert len(page) <= 2
        seen += page
        link = response.headers.get("link")
        url = re.match(r'<([^>]+)>; rel="next"', link).group(1) if link else None

    assert seen == everything


def test_the_last_page_has_no_next_link(client):
    everything = client.get(API, params={"limit": 1000}).json()
    response = client.get(API, params={"after": everything[-1]["id"]})
    assert response.json() == []
    assert "link" not in response.headers


def test_list_entries_carry_their_configuration_ids(client):
    application_id = create(client).json()["id"]
    configuration_id = add_configuration(client, application_id)
    page = client.get(API, params={"limit": 1000}).json()
    entry = next(app for app in page if app["id"] == application_id)
    assert entry["configuration_ids"] == [configuration_id]


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 1001}, {"limit": "ten"}, {"after": "nope"}]
)
def test_bad_paging_parameters_are_422(client, params):
    response = client.get(API, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_concurrent_creates_of_one_name_give_one_201_and_one_409(settings):
    name = random_name("race")
    with LiveServer(create_app(settings)) as server:
        responses = send_together(server.url, [("POST", API, {"json": {"name": name}})] * 4)

    assert sorted(response.status_code for response in responses) == [201, 409, 409, 409]


# --- what a GET returned, edited and PUT back; lookup by name; HTTP basics -----------------


def test_a_gets_body_edited_and_put_back_is_accepted_and_its_configuration_ids_ignored(client):
    application = create(client).json()
    add_configuration(client, application["id"])
    body = client.get(f"{API}/{application['id']}").json()

    response = client.put(
        f"{API}/{application['id']}",
        json={**body, "comments": "edited", "configuration_ids": [MISSING_ID]},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {**body, "comments": "edited"}


def test_a_put_back_body_naming_another_id_is_422_and_changes_nothing(client):
    application = create(client).json()
    response = client.put(f"{API}/{application['id']}", json={**application, "id": MISSING_ID})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["body", "id"], "msg": f"id must be {application['id']}, the id in the path."}
    ]
    assert client.get(f"{API}/{application['id']}").json() == application


def test_an_application_is_found_by_its_exact_name(client):
    name = random_name("Billing")
    application = create(client, name=name).json()

    found = client.get(API, params={"name": name})
    assert (found.status_code, found.json()) == (200, [application])
    assert "link" not in found.headers
    for other in (name.lower(), name + "x", name[:-1]):
        assert client.get(API, params={"name": other}).json() == []


@pytest.mark.parametrize("query", ["nmae=billing", "limit=5&colour=blue", "after=&foo"])
def test_an_unknown_query_parameter_is_422_naming_it(client, query):
    response = client.get(f"{API}?{query}")
    assert response.status_code == 422
    unknown = query.split("&")[-1].split("=")[0]
    assert ["query", unknown] in [error["loc"] for error in response.json()["errors"]]


def test_unknown_query_parameters_are_refused_on_reads_by_id_too(client):
    application = create(client).json()
    assert client.get(f"{API}/{application['id']}?fields=name").status_code == 422


def test_the_list_is_revalidated_like_every_other_get(client):
    assert client.get(API).headers["cache-control"] == "no-cache"


def test_head_works_wherever_get_does(client):
    application = create(client).json()
    for path in (API, f"{API}/{application['id']}", "/health/live", "/openapi.json"):
        get, head = client.get(path), client.head(path)
        assert (head.status_code, head.content) == (get.status_code, b""), path
        assert head.headers["content-length"] == str(len(get.content)), path


# --- ?include=configurations -------------------------------------------------------------

INCLUDE = {"include": "configurations"}


def test_include_configurations_adds_each_configurations_get_and_an_etag_of_its_own(client):
    application_id = create(client).json()["id"]
    for _ in range(2):
        add_configuration(client, application_id)
    plain = client.get(f"{API}/{application_id}")

    whole = client.get(f"{API}/{application_id}", params=INCLUDE)

    assert whole.status_code == 200, whole.text
    items = [client.get(f"/api/v1/configurations/{c}") for c in plain.json()["configuration_ids"]]
    assert whole.json() == {**plain.json(), "configurations": [item.json() for item in items]}
    assert whole.headers["etag"] not in (plain.headers["etag"], None)
    assert whole.headers["cache-control"] == "no-cache"
    assert "revision" not in whole.headers and "link" not in whole.headers
    revalidated = client.get(
        f"{API}/{application_id}", params=INCLUDE, headers={"If-None-Match": whole.headers["etag"]}
    )
    assert (revalidated.status_code, revalidated.headers["etag"]) == (304, whole.headers["etag"])
    head = client.head(f"{API}/{application_id}", params=INCLUDE)
    assert (head.status_code, head.content, head.headers["etag"]) == (
        200,
        b"",
        whole.headers["etag"],
    )


@pytest.mark.parametrize(
    "query",
    [
        "include=config",
        "include=",
        "include",
        "include=Configurations",
        "include=configurations,revisions",
        "include=configurations&include=configurations",
    ],
)
def test_any_other_include_is_422_on_the_parameter(client, query):
    application_id = create(client).json()["id"]
    response = client.get(f"{API}/{application_id}?{query}")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["loc"] for error in response.json()["errors"]] == [["query", "include"]]


def test_include_of_an_unknown_or_malformed_id_answers_as_the_plain_get(client):
    for path in (f"{API}/{MISSING_ID}", f"{API}/not-a-ulid"):
        plain, whole = client.get(path), client.get(path, params=INCLUDE)
        assert (whole.status_code, whole.json()["detail"]) == (
            plain.status_code,
            plain.json()["detail"],
        )


def test_a_body_read_with_its_configurations_may_be_put_back(client):
    application_id = create(client).json()["id"]
    add_configuration(client, application_id)
    body = client.get(f"{API}/{application_id}", params=INCLUDE).json()

    response = client.put(f"{API}/{application_id}", json={**body, "comments": "edited"})

    assert response.status_code == 200, response.text
    assert response.json()["comments"] == "edited" and "configurations" not in response.json()

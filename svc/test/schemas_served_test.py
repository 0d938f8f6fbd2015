"""Schemas and dry runs through a real 2-worker server: a sample of the official JSON Schema
suite through the API, and a dry run that wakes no watch on either worker and is marked in the
request log."""

import random
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from test.concurrency import send_together
from test.json_schema_cases import REFUSED_GROUPS, suite_groups
from test.random_refs import random_name
from test.watching import answer, assert_held, logged_request, watch
from test.workers import TIMEOUT

API = "/api/v1"
SAMPLE = 60  # groups of the suite, drawn with a fixed seed (the whole suite runs in-process)


@pytest.fixture(scope="module")
def server(two_worker_server):
    return two_worker_server


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url + API, timeout=TIMEOUT) as client:
        yield client


def sampled_groups():
    """Groups whose schema is an object (a configuration's config is) and is supported."""
    groups = [
        (key, group)
        for key, group in suite_groups().items()
        if key not in REFUSED_GROUPS and isinstance(group["schema"], dict)
    ]
    return random.Random(29).sample(groups, SAMPLE)


def test_a_sample_of_the_official_suite_through_the_api(http):
    application = http.post("/applications", json={"name": random_name("suite")}).json()
    checked = 0
    for (file, description), group in sampled_groups():
        schema = http.post(
            "/configurations",
            json={
                "application_id": application["id"],
                "name": random_name("schema"),
                "config": group["schema"],
            },
        )
        assert schema.status_code == 201, (file, description, schema.text)
        link = {"Link": f'</api/v1/configurations/{schema.json()["id"]}>; rel="describedby"'}
        for case in group["tests"]:
            if not isinstance(case["data"], dict):
                continue  # a configuration's config is an object
            body = {
                "application_id": application["id"],
                "name": random_name("case"),
                "config": case["data"],
            }
            tried = http.post("/configurations", json=body, headers=link, params={"dry_run": ""})
            expected = 201 if case["valid"] else 422
            assert tried.status_code == expected, (
                file,
                description,
                case["description"],
                tried.text,
            )
            checked += 1
    assert checked >= 40  # the sample did reach the validator through HTTP


def test_a_dry_run_wakes_no_watch_on_either_worker_and_is_marked_in_the_log(server, http):
    application = http.post("/applications", json={"name": random_name("dry")}).json()
    created = http.post(
        "/configurations",
        json={"application_id": application["id"], "name": "c", "config": {"v": 1}},
    )
    path = f"{API}/configurations/{created.json()['id']}"
    etag = created.headers["etag"]
    with ThreadPoolExecutor(4) as threads:
        watches = [watch(threads, server.url, path, etag, wait=2) for _ in range(4)]
        assert_held(*watches)
        tried = httpx.put(
            server.url + path,
            json={"name": "c", "config": {"v": 2}},
            params={"dry_run": ""},
            headers={"X-Request-ID": "dry-run-put"},
            timeout=TIMEOUT,
        )
        assert tried.status_code == 200 and tried.json()["config"] == {"v": 2}
        for held in watches:
            assert answer(held, within=10).status == 304  # the wait ended: nothing changed
    assert logged_request(server, "dry-run-put")["dry_run"] is True
    assert httpx.get(server.url + path, headers={"Cache-Control": "no-cache"}).json()["config"] == {
        "v": 1
    }


def test_a_schema_change_and_a_follower_s_write_racing_never_both_win(server, http):
    """The follower's new body satisfies only the old schema; the new schema accepts only the
    follower's old body. Whichever goes first, the other must be refused: never both."""
    application = http.post("/applications", json={"name": random_name("race")}).json()

    def pool(minimum: int) -> dict:
        return {
            "type": "object",
            "properties": {"pool_size": {"type": "integer", "minimum": minimum}},
        }

    outcomes = set()
    for round_number in range(10):
        schema = http.post(
            "/configurations",
            json={
                "application_id": application["id"],
                "name": f"schema-{round_number}",
                "config": pool(1),
            },
        ).json()
        link = {"Link": f'</api/v1/configurations/{schema["id"]}>; rel="describedby"'}
        follower = http.post(
            "/configurations",
            json={
                "application_id": application["id"],
                "name": f"follower-{round_number}",
                "config": {"pool_size": 5},
            },
            headers=link,
        ).json()
        stricter, smaller = send_together(
            server.url,
            [
                (
                    "PUT",
                    f"{API}/configurations/{schema['id']}",
                    {"json": {"name": schema["name"], "config": pool(3)}},
                ),
                (
                    "PUT",
                    f"{API}/configurations/{follower['id']}",
                    {"json": {"name": follower["name"], "config": {"pool_size": 2}}},
                ),
            ],
        )
        outcome = (stricter.status_code, smaller.status_code)
        assert outcome in {(200, 422), (409, 200)}, (outcome, stricter.text, smaller.text)
        outcomes.add(outcome)
        fresh = {"Cache-Control": "no-cache"}
        minimum = http.get(f"/configurations/{schema['id']}", headers=fresh).json()["config"]
        size = http.get(f"/configurations/{follower['id']}", headers=fresh).json()["config"]
        assert size["pool_size"] >= minimum["properties"]["pool_size"]["minimum"]

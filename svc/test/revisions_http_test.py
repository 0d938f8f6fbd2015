"""Revisions on the wire: Revision and Link headers, ?revision=N, ?history, rollback."""

import json
import logging
import threading

import httpx
import pytest
from fastapi.testclient import TestClient

from config_service.main import create_app
from conftest import make_settings
from test.live_server import LiveServer
from test.prometheus import held_requests
from test.random_refs import MISSING_ID, random_name
from test.postgres import execute
from test.resources import API, create_application, create_configuration
from test.revisions import keeping, revisions
from test.waiting import until

IMMUTABLE = "max-age=86400, immutable"  # a day: docs/operations.md, Proxies and CDNs


@pytest.fixture
def kept_5(database_url):
    """An app that keeps 5 revisions per configuration, on a database that does (the service
    records REVISIONS_KEEP when it migrates; this app does not migrate)."""
    with (
        keeping(database_url, 5),
        TestClient(create_app(make_settings(database_url, revisions_keep=5))) as test_client,
    ):
        yield test_client


def put(client, configuration: dict, config: dict, **headers):
    body = {"name": configuration["name"], "config": config}
    return client.put(configuration["path"], json=body, headers=headers)


def history(client, configuration: dict, query: str = "") -> list[dict]:
    response = client.get(f"{configuration['path']}?history{query}")
    assert response.status_code == 200, response.text
    return response.json()


def test_create_put_noop_put_and_psql_update_are_revisions_1_2_2_3(client, database_url):
    created = client.post(
        f"{API}/configurations",
        json={
            "application_id": create_application(client)["id"],
            "name": random_name("cfg"),
            "config": {"v": 0},
        },
        headers={"X-Request-ID": "create-1"},
    )
    configuration = {**created.json(), "path": f"{API}/configurations/{created.json()['id']}"}
    first_get = client.get(configuration["path"])
    changed = put(client, configuration, {"v": 1}, **{"X-Request-ID": "put-2"})
    same = put(client, configuration, {"v": 1}, **{"X-Request-ID": "put-3"})
    execute(
        database_url,
        "UPDATE configurations SET comments = 'by hand' WHERE id = %s",
        (configuration["id"],),
    )
    now = client.get(configuration["path"], headers={"Cache-Control": "no-cache"})

    assert [r.headers["revision"] for r in (created, changed, same, now)] == ["1", "2", "2", "3"]
    assert same.headers["etag"] == changed.headers["etag"]
    original = client.get(f"{configuration['path']}?revision=1")
    assert original.content == created.content == first_get.content
    assert original.headers["etag"] == created.headers["etag"]
    assert (original.headers["revision"], original.headers["cache-control"]) == ("1", IMMUTABLE)
    entries = history(client, configuration)
    assert [e["revision"] for e in entries] == [3, 2, 1]
    assert [(e["changed_by"], e["request_id"]) for e in entries] == [
        ("db:postgres", None),
        (None, "put-2"),
        (None, "create-1"),
    ]
    assert entries[2]["etag"] == created.headers["etag"]
    assert entries[0]["etag"] == now.headers["etag"]


def test_a_current_get_links_its_history_and_predecessor(client):
    configuration = create_configuration(client)
    path = configuration["path"]
    first = client.get(path)
    assert first.headers["link"] == f'<{path}?history>; rel="version-history"'
    assert first.headers["cache-control"] == "no-cache"
    put(client, configuration, {"v": 1})
    second = client.get(path)
    assert second.headers["revision"] == "2"
    assert f'<{path}?revision=1>; rel="predecessor-version"' in second.headers["link"]
    old = client.get(f"{path}?revision=2")
    assert old.content == second.content and old.headers["etag"] == second.headers["etag"]
    assert f'<{path}?revision=1>; rel="predecessor-version"' in old.headers["link"]
    assert f'<{path}?history>; rel="version-history"' in old.headers["link"]
    head = client.head(f"{path}?revision=1")
    assert (head.status_code, head.headers["revision"], head.content) == (200, "1", b"")


def test_if_none_match_works_on_a_revision_and_on_the_history(client):
    configuration = create_configuration(client)
    path = configuration["path"]
    old = client.get(f"{path}?revision=1")
    again = client.get(f"{path}?revision=1", headers={"If-None-Match": old.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    listed = client.get(f"{path}?history")
    unchanged = client.get(f"{path}?history", headers={"If-None-Match": listed.headers["etag"]})
    assert unchanged.status_code == 304
    put(client, configuration, {"v": 1})
    grown = client.get(f"{path}?history", headers={"If-None-Match": listed.headers["etag"]})
    assert grown.status_code == 200 and len(grown.json()) == 2


@pytest.mark.parametrize(
    "query", ["revision=0", "revision=-2", "revision=x", "revision=", "history=1", "limit=2"]
)
def test_a_bad_version_query_is_422_problem(client, query):
    configuration = create_configuration(client)
    response = client.get(f"{configuration['path']}?{query}")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"][0] == "query"


def test_unknown_revisions_and_configurations_are_404(client):
    configuration = create_configuration(client)
    assert client.get(f"{configuration['path']}?revision=2").status_code == 404
    assert client.get(f"{configuration['path']}?revision=9999999999").status_code == 404
    for query in ("revision=1", "history"):
        missing = client.get(f"{API}/configurations/{MISSING_ID}?{query}")
        assert missing.status_code == 404, query
        assert missing.json()["detail"] == f"No configuration has id {MISSING_ID}."


def test_retention_keeps_5_the_oldest_is_410_and_the_current_is_always_there(kept_5):
    configuration = create_configuration(kept_5)
    old_first = kept_5.get(f"{configuration['path']}?revision=1")  # now kept in memory
    assert old_first.status_code == 200
    for n in range(1, 11):
        assert put(kept_5, configuration, {"v": n}).headers["revision"] == str(n + 1)
        newest = history(kept_5, configuration)[0]["revision"]
        assert kept_5.get(f"{configuration['path']}?revision={newest}").status_code == 200

    assert [e["revision"] for e in history(kept_5, configuration)] == [11, 10, 9, 8, 7]
    gone = kept_5.get(f"{configuration['path']}?revision=1")
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    assert kept_5.get(f"{configuration['path']}?revision=6").status_code == 410


def test_history_pages_with_limit_before_and_a_next_link(client):
    configuration = create_configuration(client)
    for n in range(1, 5):
        put(client, configuration, {"v": n})
    first = client.get(f"{configuration['path']}?history&limit=2")
    assert [e["revision"] for e in first.json()] == [5, 4]
    next_url = first.headers["link"].split(">")[0].lstrip("<")
    assert first.headers["link"].endswith('rel="next"')
    second = client.get(next_url)
    assert [e["revision"] for e in second.json()] == [3, 2]
    last = client.get(second.headers["link"].split(">")[0].lstrip("<"))
    assert [e["revision"] for e in last.json()] == [1] and "link" not in last.headers
    assert client.get(f"{configuration['path']}?history&limit=1001").status_code == 422


def test_rollback_restores_the_old_config_as_a_new_revision(client, database_url):
    configuration = create_configuration(client)
    put(client, configuration, {"v": "bad"})
    old = client.get(f"{configuration['path']}?revision=1")
    current_etag = client.get(configuration["path"]).headers["etag"]

    stale = client.put(
        configuration["path"],
        content=old.content,
        headers={"If-Match": old.headers["etag"], "Content-Type": "application/json"},
    )
    assert stale.status_code == 412
    assert [r["revision"] for r in revisions(database_url, configuration["id"])] == [1, 2]

    rolled_back = client.put(
        configuration["path"],
        content=old.content,
        headers={"If-Match": current_etag, "Content-Type": "application/json"},
    )
    assert rolled_back.status_code == 200
    assert rolled_back.headers["revision"] == "3"
    assert rolled_back.content == old.content and rolled_back.headers["etag"] == old.headers["etag"]
    assert json.loads(client.get(configuration["path"]).content)["config"] == {"v": 0}
    assert [e["etag"] for e in history(client, configuration)][::2] == [old.headers["etag"]] * 2


def test_a_write_counts_its_revision_and_logs_its_number(client, caplog):
    configuration = create_configuration(client)
    before = _counters(client)
    with caplog.at_level(logging.INFO, logger="config_service.requests"):
        put(client, configuration, {"v": 1})
        put(client, configuration, {"v": 1})  # changes nothing: nothing recorded
    after = _counters(client)
    assert after["recorded"] - before["recorded"] == 1
    logged = [r.fields for r in caplog.records if getattr(r, "fields", {}).get("method") == "PUT"]
    assert [fields["revision"] for fields in logged[-2:]] == [2, 2]


def _counters(client) -> dict[str, float]:
    text = client.get("/metrics").text
    found = {}
    for line in text.splitlines():
        for name in ("recorded", "removed"):
            if line.startswith(f"config_service_configuration_revisions_{name}_total "):
                found[name] = float(line.split()[-1])
    return found


def test_retention_is_counted(kept_5):
    configuration = create_configuration(kept_5)
    before = _counters(kept_5)
    for n in range(1, 7):
        put(kept_5, configuration, {"v": n})
    after = _counters(kept_5)
    assert (after["recorded"] - before["recorded"], after["removed"] - before["removed"]) == (6, 2)


def test_a_woken_watch_carries_the_new_revision(database_url):
    with LiveServer(create_app(make_settings(database_url))) as server:
        http = httpx.Client(base_url=server.url, timeout=10)
        configuration = create_configuration(http)
        etag = http.get(configuration["path"]).headers["etag"]
        answered = {}

        def watch() -> None:
            headers = {"If-None-Match": etag, "Prefer": "wait=10"}
            answered["response"] = http.get(configuration["path"], headers=headers)

        watcher = threading.Thread(target=watch)
        watcher.start()
        until(lambda: held_requests(http.get("/metrics").content) == 1, 5, "the watch held")
        put(http, configuration, {"v": 1})
        watcher.join(timeout=10)
    response = answered["response"]
    assert (response.status_code, response.headers["revision"]) == (200, "2")
    assert 'rel="predecessor-version"' in response.headers["link"]


def test_tokens_guard_revisions_and_history_as_they_guard_the_get(database_url):
    settings = make_settings(
        database_url, api_read_tokens=frozenset({"reader"}), api_write_tokens=frozenset({"w"})
    )
    app = create_app(settings)
    with TestClient(app) as guarded:
        writer = TestClient(app, headers={"Authorization": "Bearer w"})  # shares the lifespan
        configuration = create_configuration(writer)
        for query in ("", "?revision=1", "?history"):
            url = configuration["path"] + query
            assert guarded.get(url).status_code == 401, query
            assert guarded.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
            reader = {"Authorization": "Bearer reader"}
            assert guarded.get(url, headers=reader).status_code == 200, query

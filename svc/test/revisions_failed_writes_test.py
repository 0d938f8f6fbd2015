"""A write that fails records no revision: the trigger runs in the writing transaction, and
a failed write's transaction never commits (409, 412, 422, 503 during an outage)."""

from test.random_refs import random_name
from test.revisions import revisions

API = "/api/v1"


def create_pair(client) -> tuple[str, dict, dict]:
    application = client.post(f"{API}/applications", json={"name": random_name()}).json()
    made = [
        client.post(
            f"{API}/configurations",
            json={"application_id": application["id"], "name": name, "config": {"v": 1}},
        )
        for name in ("first", "second")
    ]
    assert [response.status_code for response in made] == [201, 201]
    return application["id"], made[0].json(), made[1].json()


def test_a_conflict_a_stale_if_match_or_a_refused_move_records_nothing(client, database_url):
    application_id, first, second = create_pair(client)
    other_application = client.post(f"{API}/applications", json={"name": random_name()}).json()
    etag = client.get(f"{API}/configurations/{first['id']}").headers["etag"]
    client.put(f"{API}/configurations/{first['id']}", json={**first, "config": {"v": 2}})
    before = revisions(database_url, first["id"]), revisions(database_url, second["id"])

    path = f"{API}/configurations/{first['id']}"
    statuses = [
        client.post(
            f"{API}/configurations",
            json={"application_id": application_id, "name": "second", "config": {}},
        ).status_code,
        client.put(path, json={**first, "name": "second", "config": {"v": 3}}).status_code,
        client.put(
            path, json={**first, "config": {"v": 4}}, headers={"If-Match": etag}
        ).status_code,
        client.put(
            path, json={**first, "application_id": other_application["id"], "config": {"v": 5}}
        ).status_code,
        client.put(path, json={**first, "config": []}).status_code,
    ]

    assert statuses == [409, 409, 412, 422, 422]
    assert (revisions(database_url, first["id"]), revisions(database_url, second["id"])) == before
    assert [r["revision"] for r in before[0]] == [1, 2]


def test_a_write_during_an_outage_is_503_and_records_nothing(proxied_client, proxy, database_url):
    _, first, _ = create_pair(proxied_client)
    path = f"{API}/configurations/{first['id']}"

    proxy.refuse()
    down = proxied_client.put(path, json={**first, "config": {"v": "down"}})
    proxy.restore()
    assert down.status_code == 503
    assert [r["revision"] for r in revisions(database_url, first["id"])] == [1]

    # Connections cut while idle: the write is retried on a fresh one, and recorded once.
    proxy.cut()
    up = proxied_client.put(path, json={**first, "config": {"v": "up"}})
    assert up.status_code == 200
    assert [r["revision"] for r in revisions(database_url, first["id"])] == [1, 2]

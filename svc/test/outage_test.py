"""Database outages, for real: the app talks to PostgreSQL through a proxy the test breaks."""

import time


from test.postgres import rows
from test.random_refs import random_name

API = "/api/v1/applications"


def stored_names(database_url: str, names: list[str]) -> list[str]:
    found = rows(database_url, "SELECT name FROM applications WHERE name = ANY(%s)", (names,))
    return sorted(row["name"] for row in found)


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_down_then_back_answers_503_then_recovers_and_loses_nothing(
    proxied_client, proxy, database_url
):
    acknowledged = []

    def create():
        name = random_name("outage")
        response = proxied_client.post(API, json={"name": name})
        if response.status_code == 201:
            acknowledged.append(name)
        return response

    assert create().status_code == 201

    proxy.refuse()
    statuses = []
    for call in (
        create,
        lambda: proxied_client.get(API),
        lambda: proxied_client.get("/health/ready"),
    ):
        response, seconds = timed(call)
        statuses.append(response.status_code)
        assert seconds < 5
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) > 0
    assert statuses == [503, 503, 503]
    assert proxied_client.get("/health/live").status_code == 200

    proxy.restore()
    assert [create().status_code, proxied_client.get(API).status_code] == [201, 200]
    assert proxied_client.get("/health/ready").status_code == 200

    assert stored_names(database_url, acknowledged) == sorted(acknowledged)


def test_connections_cut_by_a_restart_are_replaced_without_an_error(
    proxied_client, proxy, database_url
):
    first = proxied_client.post(API, json={"name": random_name("before")})
    assert first.status_code == 201

    proxy.cut()  # every pooled connection dies while idle
    read = proxied_client.get(first.headers["location"])
    proxy.cut()
    name = random_name("after")
    write = proxied_client.post(API, json={"name": name})

    assert (read.status_code, write.status_code) == (200, 201)
    assert stored_names(database_url, [name]) == [name]

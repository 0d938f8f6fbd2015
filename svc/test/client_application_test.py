"""The runtime client and the CLI reading a whole application, against real server processes:
one held request for all of an application's configurations, through an outage and a restart,
from its disk cache; and the requests it costs, counted."""

import json
import threading
import time

import httpx
import pytest
from config_service_client import ConfigClient, cli
from config_service_client import follower as following
from config_service_client.backoff import Backoff
from config_service_client.cache import DiskCache

from test.live_server import ServerProcess
from test.random_refs import random_name
from test.readme_test import RUNTIME, code_blocks
from test.resources import create_application, create_configuration, put_version
from test.waiting import until
from test.workers import TIMEOUT, running

WAIT = 5  # seconds a follower's request is held: a stopped follower's last one ends soon


@pytest.fixture(scope="module")
def server(one_worker_server):
    return one_worker_server


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        yield client


def counted(monkeypatch, module) -> list[httpx.Request]:
    """Every request sent through the clients `module` connects from now on."""
    sent: list[httpx.Request] = []
    connect = module.connect

    def counting(*arguments, **options) -> httpx.Client:
        client = connect(*arguments, **options)
        client.event_hooks["request"].append(sent.append)
        return client

    monkeypatch.setattr(module, "connect", counting)
    return sent


def application_of(http, count: int) -> tuple[dict, list[dict]]:
    application = create_application(http)
    return application, [create_configuration(http, application) for _ in range(count)]


def versions(configurations: list[dict], *changed: dict) -> dict[str, dict]:
    """The mapping a follower holds: every configuration at version 0, `changed` ones at 1."""
    ids = {configuration["id"] for configuration in changed}
    return {c["name"]: {"v": 1 if c["id"] in ids else 0} for c in configurations}


def test_a_runtime_follows_its_application_from_its_cache_through_an_outage_and_a_restart(
    database_url, server, http, tmp_path
):
    application, (a, b) = application_of(http, 2)
    client = ConfigClient(server.url, cache_dir=tmp_path, wait=WAIT)
    first = client.follow(application=application["name"]).start()
    try:
        assert first.wait(TIMEOUT) == versions([a, b])
    finally:
        first.stop()
    assert put_version(http, a, 1).status_code == 200

    later = ServerProcess(database_url)  # its port is chosen; nothing listens there yet
    client = ConfigClient(later.url, cache_dir=tmp_path, wait=WAIT)
    follower = client.follow(application=application["name"], backoff=Backoff(0.05, 0.5))
    changes = []
    follower.on_change(changes.append)
    follower.start()
    try:
        assert follower.wait(0) == versions([a, b])  # at once, from the file
        assert follower.cache_age is not None
        until(lambda: follower.problem, TIMEOUT, "a report that the service is unreachable")
        with running(later):
            until(lambda: follower.config == versions([a, b], a), TIMEOUT, "the newer version")
            later.stop()  # an outage: the follower keeps what it has
            until(lambda: follower.problem, TIMEOUT, "a report of the outage")
            assert put_version(http, b, 1).status_code == 200  # through another server
            assert follower.config == versions([a, b], a) and follower.error is None
            later.start().wait_until_ready()  # restarted, on the same port
            until(lambda: follower.config == versions([a, b], a, b), TIMEOUT, "the change")
            assert follower.problem is None
    finally:
        follower.stop()
    assert changes == [versions([a, b]), versions([a, b], a), versions([a, b], a, b)]
    # The disk cache holds the whole application, as last followed, in one file.
    cached = DiskCache(tmp_path, follower.target.key).read()
    assert (cached.id, cached.config) == (application["id"], versions([a, b], a, b))


def test_following_an_application_of_20_costs_a_lookup_then_one_request_at_a_time(
    server, http, monkeypatch
):
    application, configurations = application_of(http, 20)
    sent = counted(monkeypatch, following)
    follower = ConfigClient(server.url, wait=WAIT).follow(application=application["name"])
    follower.start()
    try:
        assert follower.wait(TIMEOUT) == versions(configurations)
        until(lambda: len(sent) == 3, TIMEOUT, "the next request, held")
        time.sleep(1)  # held, not polling: no other request meanwhile
        assert len(sent) == 3
        assert put_version(http, configurations[7], 1).status_code == 200
        expected = versions(configurations, configurations[7])
        until(lambda: follower.config == expected, TIMEOUT, "the change")
        until(lambda: len(sent) == 4, TIMEOUT, "the next request, held")
    finally:
        follower.stop()
    lookup, first, *held = sent
    assert (lookup.url.path, lookup.url.params["name"]) == (
        "/api/v1/applications",
        application["name"],
    )
    for request in (first, *held):
        assert request.url.path == f"/api/v1/applications/{application['id']}"
        assert request.url.params["include"] == "configurations"
    assert "If-None-Match" not in first.headers
    assert [request.headers["Prefer"] for request in held] == [f"wait={WAIT}"] * 2


def test_apply_of_5_applications_of_20_unchanged_reads_each_application_once(
    server, tmp_path, monkeypatch, capsys
):
    names = [random_name("whole") for _ in range(5)]
    for name in names:
        (tmp_path / name).mkdir()
        for number in range(20):
            (tmp_path / name / f"c{number}.json").write_text(json.dumps({"n": number}))
    assert cli.main(["--url", server.url, "apply", str(tmp_path)]) == 0  # creates them all
    capsys.readouterr()
    sent = counted(monkeypatch, cli)

    assert cli.main(["--url", server.url, "apply", str(tmp_path)]) == 0

    assert capsys.readouterr().out == "0 changed, 100 unchanged, 0 drift\n"
    assert all(request.method == "GET" for request in sent), "a write"
    lookups = [r for r in sent if r.url.path == "/api/v1/applications"]
    reads = [r for r in sent if r.url.params.get("include") == "configurations"]
    assert sorted(r.url.params["name"] for r in lookups) == sorted(names)
    assert len(reads) == 5 and len(sent) == 10


def test_the_cli_gets_and_watches_a_whole_application(server, http, capsys):
    application, (a, b) = application_of(http, 2)
    url = ["--url", server.url]

    assert cli.main(["get", application["name"], *url]) == 0
    assert json.loads(capsys.readouterr().out) == versions([a, b])

    outcome = []
    command = ["watch", application["name"], "--count", "2", *url]
    watching = threading.Thread(target=lambda: outcome.append(cli.main(command)))
    watching.start()
    until(
        lambda: capsys.readouterr().out == json.dumps(versions([a, b])) + "\n",
        TIMEOUT,
        "the application now",
    )
    assert put_version(http, b, 1).status_code == 200
    watching.join(TIMEOUT)
    assert outcome == [0]
    assert capsys.readouterr().out == json.dumps(versions([a, b], b)) + "\n"


def test_the_readme_follows_a_whole_application(server, http, tmp_path):
    first, whole = [block for block in code_blocks(RUNTIME, "python") if "client." in block]
    application = create_application(http)
    http.post(
        "/api/v1/configurations",
        json={"application_id": application["id"], "name": "production", "config": {"v": 1}},
    ).json()
    other = create_configuration(http, application)
    example: dict = {}
    for code in (first, whole):
        code = code.replace("http://127.0.0.1:8000", server.url)
        code = code.replace('"billing"', repr(application["name"]))
        exec(code.replace("/var/cache/billing-config", str(tmp_path)), example)
    try:
        assert example["production"] == {"v": 1}
        assert put_version(http, other, 1).status_code == 200
        expected = {"production": {"v": 1}, other["name"]: {"v": 1}}
        until(lambda: example["application"].config == expected, TIMEOUT, "the change")
    finally:
        example["follower"].stop()
        example["application"].stop()

"""The runtime client against real server processes: outages, its disk cache, fatal answers."""

import logging
import random
import threading
import time

import httpx
import pytest
from config_service_client import ConfigClient, FatalError
from config_service_client.backoff import Backoff
from config_service_client.cli import main

from test.live_server import ServerProcess, free_port
from test.proxy import TcpProxy
from test.random_refs import MISSING_ID
from test.resources import create_configuration, put_version
from test.waiting import until
from test.workers import TIMEOUT, running

FAST = {"base": 0.05, "cap": 0.5}  # backoff for tests: retries within a second


def fast() -> Backoff:
    return Backoff(**FAST)


@pytest.fixture(scope="module")
def server(one_worker_server):
    return one_worker_server


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        yield client


def config_of(follower) -> dict | None:
    return follower.config


def test_a_runtime_started_while_the_service_is_down_starts_from_its_cache_then_catches_up(
    database_url, server, http, tmp_path
):
    configuration = create_configuration(http)
    first = ConfigClient(server.url, cache_dir=tmp_path).follow(configuration["id"]).start()
    assert first.wait(TIMEOUT) == {"v": 0}
    first.stop()
    assert put_version(http, configuration, 1).status_code == 200

    later = ServerProcess(database_url)  # its port is chosen; nothing listens there yet
    follower = ConfigClient(later.url, cache_dir=tmp_path).follow(
        configuration["id"], backoff=fast()
    )
    follower.start()
    try:
        assert follower.wait(0) == {"v": 0}  # at once, from the file
        assert follower.cache_age is not None and follower.cache_age >= 0
        until(lambda: follower.problem, TIMEOUT, "a report that the service is unreachable")
        assert "cannot reach the service" in follower.problem
        with running(later):
            until(lambda: follower.config == {"v": 1}, TIMEOUT, "the newer version")
            assert follower.problem is None and follower.staleness < TIMEOUT
    finally:
        follower.stop()


def test_with_no_cache_and_no_service_it_says_so_and_retries_ever_later_with_jitter(caplog):
    url = f"http://127.0.0.1:{free_port()}"
    backoff = Backoff(base=0.01, cap=0.16, rng=random.Random(20))
    follower = ConfigClient(url).follow(MISSING_ID, backoff=backoff)
    caplog.set_level(logging.WARNING, logger="config_service_client")
    follower.start()
    try:
        retries = lambda: [r for r in caplog.records if hasattr(r, "retry_in")]  # noqa: E731
        until(lambda: len(retries()) >= 8, TIMEOUT, "eight retries")
        with pytest.raises(TimeoutError, match="cannot reach the service at"):
            follower.wait(0)
    finally:
        follower.stop()
    delays = [record.retry_in for record in retries()[:8]]
    ceilings = [min(0.16, 0.01 * 2**attempt) for attempt in range(8)]
    assert all(0 <= delay <= ceiling for delay, ceiling in zip(delays, ceilings))
    assert len(set(delays)) == 8, "jittered: no two delays alike"
    assert max(delays[4:]) > max(delays[:2]), "the delays grow"
    assert "no configuration yet" in retries()[0].getMessage()


def test_postgresql_down_while_following_keeps_the_last_config_then_catches_up(database_url):
    changes = []
    with TcpProxy.in_front_of(database_url) as proxy:
        outage = {"DB_CONNECT_TIMEOUT": "1", "DB_STATEMENT_TIMEOUT": "2"}
        with ServerProcess(proxy.dsn(database_url), **outage) as server:
            with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
                configuration = create_configuration(http)
                follower = ConfigClient(server.url).follow(
                    application=http.get(
                        f"/api/v1/applications/{configuration['application_id']}"
                    ).json()["name"],
                    configuration=configuration["name"],
                    backoff=fast(),
                )
                follower.on_change(changes.append)
                follower.start()
                try:
                    assert follower.wait(TIMEOUT) == {"v": 0}
                    proxy.refuse()
                    until(lambda: follower.problem, 15, "the follower noticing the outage")
                    assert follower.config == {"v": 0} and follower.error is None
                    proxy.restore()
                    until(
                        lambda: put_version(http, configuration, 1).status_code == 200,
                        15,
                        "a PUT once PostgreSQL is back",
                    )
                    until(lambda: follower.config == {"v": 1}, TIMEOUT, "the change")
                finally:
                    follower.stop()
    assert changes == [{"v": 0}, {"v": 1}]


@pytest.fixture(scope="module")
def guarded(database_url):
    with ServerProcess(database_url, API_READ_TOKENS="reader", API_WRITE_TOKENS="writer") as s:
        yield s


@pytest.mark.parametrize(
    ("token", "known", "status"), [("wrong", True, 401), ("reader", False, 404)]
)
def test_an_answer_that_cannot_change_ends_the_follow(guarded, token, known, status):
    with httpx.Client(
        base_url=guarded.url, timeout=TIMEOUT, headers={"Authorization": "Bearer writer"}
    ) as http:
        configuration_id = create_configuration(http)["id"] if known else MISSING_ID
    ended = []
    follower = ConfigClient(guarded.url, token=token).follow(configuration_id, backoff=fast())
    follower.on_error(ended.append)
    follower.start()
    with pytest.raises(FatalError) as raised:
        follower.wait(TIMEOUT)
    follower.join(TIMEOUT)
    assert raised.value.status == status and ended == [raised.value]
    assert not follower._thread.is_alive()


def test_a_read_token_cannot_apply_and_the_cli_says_why_in_one_line(guarded, tmp_path, capsys):
    (tmp_path / "app-x").mkdir()
    (tmp_path / "app-x" / "c.json").write_text('{"a": 1}')
    code = main(["apply", str(tmp_path), "--url", guarded.url, "--token", "reader"])
    error = capsys.readouterr().err
    assert code == 1 and error.startswith("config-service: POST /api/v1/applications: 403 ")
    assert error.count("\n") == 1


def test_watch_prints_each_new_version(server, http, capsys):
    configuration = create_configuration(http)
    application = http.get(f"/api/v1/applications/{configuration['application_id']}").json()
    target = f"{application['name']}/{configuration['name']}"
    outcome = []
    watching = threading.Thread(
        target=lambda: outcome.append(main(["watch", target, "--count", "2", "--url", server.url]))
    )
    watching.start()
    until(lambda: capsys.readouterr().out == '{"v": 0}\n', TIMEOUT, "the current version")
    assert put_version(http, configuration, 1).status_code == 200
    watching.join(TIMEOUT)
    assert outcome == [0] and capsys.readouterr().out == '{"v": 1}\n'


def test_staleness_stays_near_zero_while_held_rises_in_an_outage_and_recovery_is_said_once(
    database_url, caplog
):
    hold = 1  # MAX_WAIT_SECONDS: a held request ends, and another starts, every second
    caplog.set_level(logging.INFO, logger="config_service_client")
    with (
        ServerProcess(database_url, WORKERS="1", MAX_WAIT_SECONDS=str(hold)) as server,
        TcpProxy("127.0.0.1", server.port) as network,
    ):
        with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
            configuration = create_configuration(http)
        url = f"http://127.0.0.1:{network.port}"
        with ConfigClient(url).follow(configuration["id"], backoff=fast()) as follower:
            follower.wait(TIMEOUT)
            until(lambda: follower._held_since, TIMEOUT, "a held request")
            readings = []
            for _ in range(60):  # three holds' worth, read every 50 ms
                readings.append(follower.staleness)
                time.sleep(0.05)
            # Counted from the last answer it would reach a whole hold each time; held, ~0.
            assert max(readings) < hold / 2, readings
            network.refuse()  # the held request is cut, and nothing gets through
            until(lambda: follower.staleness > hold, TIMEOUT, "staleness rising in the outage")
            network.restore()
            until(lambda: follower.problem is None, TIMEOUT, "the follower back")
            assert follower.staleness < hold / 2
    recovered = [r for r in caplog.records if hasattr(r, "recovered_after")]
    assert len(recovered) == 1 and "cannot reach the service" in recovered[0].getMessage()

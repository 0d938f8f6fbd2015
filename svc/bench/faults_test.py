import httpx

from bench import faults
from config_service.main import create_app
from conftest import make_settings
from test.live_server import LiveServer
from test.resources import create_configuration


def test_a_stall_is_measured_request_by_request_and_the_recovery_after_it(proxy, database_url):
    settings = make_settings(
        proxy.dsn(database_url), db_pool_size=2, db_connect_timeout=1, db_statement_timeout=1
    )
    with (
        LiveServer(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        configuration = create_configuration(http)
        frozen = faults.stall_and_thaw(http, proxy, configuration, 1, requests=8)
    assert frozen.statuses == {503: 8} and len(frozen.seconds) == 8
    assert frozen.from_memory == 200
    assert frozen.recovery_seconds is not None
    assert frozen.slowest == max(frozen.seconds)

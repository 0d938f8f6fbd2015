import httpx

from config_service_client.rollout import Running, running, spec


def test_the_header_is_built_from_the_options():
    assert spec(10, None, None, None) == "10"
    assert spec(10, 20, 300, 3) == "10;step=20;every=300;max-failures=3"


def test_a_running_rollout_is_read_from_the_configurations_answer():
    answer = httpx.Response(200, headers={"Config-Rollout": "30;revision=7"})
    assert running(answer) == Running(30, 7)
    assert running(httpx.Response(200)) is None

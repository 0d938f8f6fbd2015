import httpx
import pytest

from bench import metrics

TEXT = """# HELP config_service_read_model_hits_total Reads answered from memory.
# TYPE config_service_read_model_hits_total counter
config_service_read_model_hits_total{worker="1"} 120
config_service_read_model_hits_total{worker="2"} 30
config_service_read_model_misses_total 7 1700000000000
config_service_watch_held_requests{path="/a b}"} 3.0
"""


def test_parse_sums_label_sets_and_ignores_comments_and_timestamps():
    assert metrics.parse(TEXT) == {
        metrics.HITS: 150.0,
        metrics.MISSES: 7.0,
        metrics.HELD: 3.0,
    }


def test_hits_and_misses_need_both_counters():
    assert metrics.hits_and_misses(metrics.parse(TEXT)) == (150, 7)
    assert metrics.hits_and_misses({metrics.HITS: 1.0}) is None
    assert metrics.hits_and_misses(None) is None


@pytest.mark.parametrize(("status", "expected"), [(404, None), (200, {metrics.MISSES: 7.0})])
def test_read_tells_a_service_without_metrics(monkeypatch, status, expected):
    def fake_get(url, **options):
        assert url == "http://svc/metrics"
        request = httpx.Request("GET", url)
        return httpx.Response(status, text=f"{metrics.MISSES} 7\n", request=request)

    monkeypatch.setattr(metrics.httpx, "get", fake_get)
    assert metrics.read("http://svc") == expected

from config_service.telemetry.catalogue import ServiceMetrics
from config_service.telemetry.ignored import (
    IgnoredCounter,
    IgnoredGauge,
    IgnoredHistogram,
    ignored_metrics,
)


def test_ignored_families_take_every_call_without_a_store():
    metrics = ignored_metrics()
    assert isinstance(metrics, ServiceMetrics)
    metrics.http_requests.inc("/not-declared", "GET", "2xx")  # no series needed either
    metrics.read_hits.inc(amount=5)
    metrics.watch_held.add(amount=-1)
    metrics.read_bytes.set(value=10)
    metrics.http_duration.observe("unmatched", value=0.5)


def test_ignored_families_leave_even_a_bound_view_untouched():
    metrics = ignored_metrics()
    assert isinstance(metrics.read_hits, IgnoredCounter)
    assert isinstance(metrics.watch_held, IgnoredGauge)
    assert isinstance(metrics.http_duration, IgnoredHistogram)
    families = (metrics.read_hits, metrics.watch_held, metrics.http_duration)
    size = 0
    for family in families:
        size = family.place(size)
    view = memoryview(bytearray(8 * size)).cast("d")
    for family in families:
        family.bind(view)
    metrics.read_hits.inc(amount=3)
    metrics.watch_held.add(amount=2)
    metrics.watch_held.set(value=7)
    metrics.http_duration.observe("unmatched", value=0.2)
    assert list(view) == [0.0] * size

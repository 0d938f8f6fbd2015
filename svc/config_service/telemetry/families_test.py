"""Families render their own exposition lines from a Scrape, without a store (registry_test.py
checks them through a store and a strict parser)."""

import pytest

from config_service.telemetry.families import Counter, Gauge, Histogram, Scrape, Worker


def placed(family, values: list[float]) -> memoryview:
    """Lay `family` out from 0 and bind it to a view of `values`' length."""
    size = family.place(0)
    view = memoryview(bytearray(8 * max(size, len(values)))).cast("d")
    for index, value in enumerate(values):
        view[index] = value
    family.bind(view)
    return view


def scrape_of(view: memoryview, workers=()) -> Scrape:
    return Scrape(list(view), list(view), list(workers))


def test_counter_lines_have_help_type_and_one_sample_per_series():
    counter = Counter("hits_total", "Hits.", {"route": ["/a", "/b"]})
    view = placed(counter, [])
    counter.inc("/b", amount=2.5)
    counter.inc("/b")
    assert counter.lines(scrape_of(view)) == [
        "# HELP hits_total Hits.",
        "# TYPE hits_total counter",
        'hits_total{route="/a"} 0',
        'hits_total{route="/b"} 3.5',
    ]


def test_gauge_sums_or_shows_each_live_worker():
    summed = Gauge("held", "Held.", {}, aggregate="sum")
    view = placed(summed, [])
    summed.add(amount=3)
    summed.add(amount=-1)
    assert summed.lines(scrape_of(view))[-1] == "held 2"

    per_worker = Gauge("up", "Up.", {}, aggregate="worker")
    placed(per_worker, [])
    workers = [Worker(0, 1, 0.0, [1.0]), Worker(3, 2, 0.0, [0.0])]
    lines = per_worker.lines(Scrape([1.0], [1.0], workers))
    assert lines[2:] == ['up{worker="0"} 1', 'up{worker="3"} 0']
    assert per_worker.info.labels == ("worker",)


def test_a_histogram_value_equal_to_a_bound_lands_in_that_bucket():
    histogram = Histogram("latency", "Latency.", {}, buckets=[1, 2])
    view = placed(histogram, [])
    for value in (1, 2, 2.5):
        histogram.observe(value=value)
    assert list(view) == [1.0, 1.0, 1.0, 5.5]  # per bucket (1, 2, +Inf), then the sum
    assert histogram.lines(scrape_of(view))[2:] == [
        'latency_bucket{le="1.0"} 1',
        'latency_bucket{le="2.0"} 2',
        'latency_bucket{le="+Inf"} 3',
        "latency_sum 5.5",
        "latency_count 3",
    ]


def test_series_restricts_the_combinations_that_get_a_place():
    counter = Counter(
        "req_total", "Req.", {"m": ["GET", "PUT"], "s": ["2xx", "4xx"]}, series=[("GET", "2xx")]
    )
    assert counter.place(0) == 1
    view = placed(counter, [])
    counter.inc("GET", "2xx")
    with pytest.raises(KeyError):
        counter.inc("PUT", "4xx")
    assert counter.lines(scrape_of(view))[2:] == ['req_total{m="GET",s="2xx"} 1']


def test_writes_before_binding_raise():
    counter = Counter("x_total", "X.", {})
    counter.place(0)
    with pytest.raises(ValueError):
        counter.inc()

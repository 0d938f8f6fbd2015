import multiprocessing
import os
import shutil

import pytest

from config_service.telemetry.catalogue import service_registry
from config_service.telemetry.registry import Registry
from test.prometheus import at, parse, per_worker, read_samples

REQUESTS = "config_service_http_requests_total"
IN_FLIGHT = "config_service_http_requests_in_flight"
CONNECTED = "config_service_listener_connected"
START_TIME = "process_start_time_seconds"
RESIDENT = "process_resident_memory_bytes"
NOT_MODIFIED = "config_service_not_modified_total"


@pytest.mark.parametrize(
    "text",
    [
        "a 1\n",  # no HELP, no TYPE
        "# HELP a A.\n# TYPE a gauge\nb 1\n",  # outside its family
        "# HELP a A.\n# TYPE a gauge\na 1\na 2\n",  # the same series twice
        '# HELP a A.\n# TYPE a gauge\na{x="\\q"} 1\n',  # not an escape
        "# HELP a A.\n# TYPE a gauge\na 1e+\n",  # not a number
        '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1.0"} 2\nh_bucket{le="+Inf"} 1\n'
        "h_sum 0\nh_count 1\n",  # buckets not cumulative
    ],
)
def test_the_parser_refuses_a_malformed_exposition(text):
    with pytest.raises(AssertionError):
        parse(text)


def run_worker(directory, slot: int, requests: int, connection) -> None:
    """A worker process: record `requests` requests in flight, then answer scrapes until told."""
    registry, metrics = service_registry({"/a": {"GET"}})
    store = registry.open(directory, slot=slot, version="test")
    metrics.http_requests.inc("/a", "GET", "2xx", amount=requests)
    metrics.http_in_flight.add(amount=requests)
    metrics.listener_connected.set(value=1)
    connection.send("open")
    while connection.recv() == "render":
        connection.send(store.render())
    store.close()


class Worker:
    """A worker in a process of its own, spawned as the supervisor spawns them."""

    def __init__(self, directory, slot: int, requests: int):
        spawn = multiprocessing.get_context("spawn")
        self.connection, theirs = spawn.Pipe()
        self.process = spawn.Process(target=run_worker, args=(directory, slot, requests, theirs))
        self.process.start()
        assert self.connection.poll(30) and self.connection.recv() == "open"

    def scrape(self) -> dict:
        self.connection.send("render")
        return read_samples(self.connection.recv())

    def exit(self) -> None:
        self.connection.send("exit")
        self.process.join(10)
        assert self.process.exitcode == 0


@pytest.fixture
def start_worker():
    """Starts workers, and kills any still running after the test."""
    workers: list[Worker] = []

    def start(directory, slot: int, requests: int) -> Worker:
        workers.append(Worker(directory, slot, requests))
        return workers[-1]

    yield start
    for worker in workers:
        worker.process.kill()


def test_a_scrape_sums_all_workers_and_a_dead_workers_counters_still_count(tmp_path, start_worker):
    get_a = {"route": "/a", "method": "GET", "status": "2xx"}
    first, second = start_worker(tmp_path, 0, 3), start_worker(tmp_path, 1, 4)
    for samples in (first.scrape(), second.scrape()):
        assert (at(samples, REQUESTS, **get_a), at(samples, IN_FLIGHT)) == (7, 7)
        assert per_worker(samples, CONNECTED) == {"0": 1, "1": 1}
        assert set(per_worker(samples, RESIDENT)) == {"0", "1"}

    first.exit()
    samples = second.scrape()
    assert (at(samples, REQUESTS, **get_a), at(samples, IN_FLIGHT)) == (7, 4)
    assert per_worker(samples, CONNECTED) == {"1": 1}
    assert set(per_worker(samples, START_TIME)) == set(per_worker(samples, RESIDENT)) == {"1"}

    restarted = start_worker(tmp_path, 0, 5)  # same slot, new pid: it takes over the file
    for samples in (restarted.scrape(), second.scrape()):
        assert (at(samples, REQUESTS, **get_a), at(samples, IN_FLIGHT)) == (12, 9)
        assert per_worker(samples, CONNECTED) == {"0": 1, "1": 1}
    restarted.exit()
    again = start_worker(tmp_path, 0, 1)
    assert at(again.scrape(), REQUESTS, **get_a) == 13
    assert len(list(tmp_path.glob("worker-0-*.metrics"))) == 1  # one file, however many restarts


def test_files_of_another_layout_or_name_are_ignored(tmp_path):
    ours, our_metrics = service_registry({"/a": {"GET"}})
    other, other_metrics = service_registry(
        {"/b": {"GET"}}
    )  # another build: same size, other routes
    store = ours.open(tmp_path, slot=0, version="new")
    other_store = other.open(tmp_path, slot=1, version="old")
    other_metrics.not_modified.inc(amount=10)
    other_metrics.listener_connected.set(value=1)
    our_metrics.not_modified.inc()
    shutil.copy(tmp_path / f"worker-0-{os.getpid()}.metrics", tmp_path / "copy.metrics")
    (tmp_path / "worker-2-1.metrics").write_bytes(b"not metrics")

    samples = read_samples(store.render())
    assert at(samples, NOT_MODIFIED) == 1
    assert per_worker(samples, CONNECTED) == {"0": 0}

    store.close()
    other_store.close()


def test_label_values_and_help_are_escaped_and_read_back_unchanged():
    awkward = 'say "hi" \\ then\nbye'
    help = 'Counts "awkward" text: a \\ and\na newline.'
    registry = Registry()
    texts = registry.counter("texts_total", help, {"text": [awkward, "plain"]})
    store = registry.open(None, slot=0, version='v"1\\')
    texts.inc(awkward, amount=2)

    text = store.render()
    assert parse(text.decode())["texts_total"]["help"] == help
    samples = read_samples(text)
    assert at(samples, "texts_total", text=awkward) == 2
    assert at(samples, "texts_total", text="plain") == 0
    assert at(samples, "config_service_build_info", version='v"1\\') == 1


def test_an_observation_equal_to_a_bound_counts_in_that_bounds_bucket():
    registry = Registry()
    routes = {"route": ["/a", "/b"]}
    latency = registry.histogram("latency_seconds", "Latency.", routes, buckets=[0.5, 1, 2.5])
    store = registry.open(None, slot=0, version="test")
    for value in (0, 0.5, 1, 1.0000001, 2.5, 3):
        latency.observe("/a", value=value)

    samples = read_samples(store.render())
    bounds = ("0.5", "1.0", "2.5", "+Inf")
    buckets = {le: at(samples, "latency_seconds_bucket", route="/a", le=le) for le in bounds}
    assert buckets == {"0.5": 2, "1.0": 3, "2.5": 5, "+Inf": 6}  # cumulative, `le` is <=
    assert at(samples, "latency_seconds_sum", route="/a") == pytest.approx(8.0000001)
    assert at(samples, "latency_seconds_count", route="/b") == 0


def test_in_memory_a_store_shows_only_its_own_process():
    first, first_metrics = service_registry({})
    second, second_metrics = service_registry({})
    first_store = first.open(None, slot=0, version="test")
    second.open(None, slot=1, version="test")
    first_metrics.not_modified.inc(amount=10)
    second_metrics.not_modified.inc(amount=5)

    text = first_store.render()
    assert b"\nconfig_service_not_modified_total 10\n" in text  # a count reads as a count
    samples = read_samples(text)
    assert per_worker(samples, START_TIME).keys() == per_worker(samples, CONNECTED).keys() == {"0"}


def test_the_service_shows_every_declared_family_with_bounds_written_as_clients_do():
    registry, _ = service_registry({"/api/v1/applications": {"GET"}})
    families = parse(registry.open(None, slot=0, version="1.0.0").render().decode())
    assert list(families) == [info.name for info in registry.describe()]
    assert [families[info.name]["type"] for info in registry.describe()] == [
        info.kind for info in registry.describe()
    ]
    durations = families["config_service_http_request_duration_seconds"]["samples"]
    buckets = [dict(labels) for name, labels in durations if name.endswith("_bucket")]
    les = [labels["le"] for labels in buckets if labels["route"] == "unmatched"]
    bounds = "0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1.0 2.5 5.0 10.0 +Inf".split()
    assert les == bounds * 5  # one series per method, unmatched paths being any method's
    # By route and method, only those that can occur: GET, HEAD and refused ones ("other").
    series = {(labels["route"], labels["method"]) for labels in buckets}
    routed = {method for route, method in series if route == "/api/v1/applications"}
    assert routed == {"GET", "HEAD", "other"}


def test_undeclared_values_late_declarations_and_writes_after_close_are_refused():
    registry, metrics = service_registry({"/a": {"GET"}})
    store = registry.open(None, slot=0, version="test")
    with pytest.raises(KeyError):
        metrics.http_requests.inc("/a", "PATCH", "2xx")  # the caller maps it to "other"
    with pytest.raises(RuntimeError):
        registry.counter("late_total", "Declared after open().")
    with pytest.raises(RuntimeError):
        registry.open(None, slot=0, version="test")  # a registry backs one store
    store.close()
    with pytest.raises(ValueError):
        metrics.not_modified.inc()


@pytest.mark.parametrize(
    "declare",
    [
        lambda registry: registry.counter("2xx_total", "Not a metric name."),
        lambda registry: registry.counter("a_total", "Label name.", {"le": ["1"]}),
        lambda registry: registry.gauge("a", "Reserved.", {"worker": ["1"]}, aggregate="worker"),
        lambda registry: registry.counter("a_total", "Repeated value.", {"x": ["1", "1"]}),
        lambda registry: registry.histogram("a", "Unsorted.", buckets=[1, 0.5]),
        lambda registry: registry.counter("h_count", "Taken by the histogram h."),
    ],
)
def test_a_declaration_that_would_make_an_invalid_exposition_is_refused(declare):
    registry = Registry()
    registry.histogram("h", "A histogram.", buckets=[1])
    with pytest.raises(ValueError):
        declare(registry)


def test_a_family_may_name_the_only_series_that_can_occur():
    registry = Registry()
    hits = registry.counter(
        "hits_total",
        "Hits.",
        {"route": ["/a", "/b"], "method": ["GET", "PUT"]},
        series=[("/a", "GET"), ("/b", "PUT")],
    )
    assert hits.series == [("/a", "GET"), ("/b", "PUT")]
    with pytest.raises(ValueError, match="does not list"):
        registry.counter("misses_total", "Misses.", {"route": ["/a"]}, series=[("/c",)])

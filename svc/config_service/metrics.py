"""Prometheus metrics summed over all worker processes, kept without locks.

Every worker declares the same families at start-up, so every worker computes the same
layout: one float64 per counter or gauge series, and per histogram series a count per bucket
then the sum. A worker keeps its values in its own memory-mapped file in a shared directory,
`worker-{slot}-{pid}.metrics`, with plain stores; a scrape, answered by any worker, reads
every file there and sums. A dead worker's file stays, so counters never go backwards when the
supervisor restarts a worker; gauges count live workers only. The worker that takes a dead
one's place takes over its file too, counters and all: however often a worker is restarted,
each slot keeps one file.
"""

import bisect
import hashlib
import itertools
import math
import mmap
import os
import re
import struct
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# A file: magic, layout fingerprint, the worker's start time (unix seconds), then the values.
HEADER = struct.Struct("=8s8sd")
MAGIC = b"cfgsvc01"
FILE_NAME = re.compile(r"worker-(?P<slot>\d+)-(?P<pid>\d+)\.metrics")
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
RESERVED_LABELS = {"le", "worker"}  # the scrape adds these: histogram buckets, per-worker gauges


class FamilyInfo(NamedTuple):
    """What a scrape shows of one family, e.g. for the README's table."""

    name: str
    kind: str
    labels: tuple[str, ...]
    help: str


# Families every registry exposes, read when scraped rather than stored by the app.
START_TIME = FamilyInfo(
    "config_service_process_start_time_seconds",
    "gauge",
    ("worker",),
    "Start time of the worker process since the unix epoch, in seconds.",
)
RESIDENT_MEMORY = FamilyInfo(
    "config_service_process_resident_memory_bytes",
    "gauge",
    ("worker",),
    "Resident memory of the worker process, in bytes.",
)
OPEN_FDS = FamilyInfo(
    "config_service_process_open_fds",
    "gauge",
    ("worker",),
    "File descriptors the worker process holds open.",
)
BUILD_INFO = FamilyInfo(
    "config_service_build_info", "gauge", ("version",), "Always 1; the label is the version."
)
BUILT_IN = (START_TIME, RESIDENT_MEMORY, OPEN_FDS, BUILD_INFO)


@dataclass(frozen=True)
class _Worker:
    """One worker's file as a scrape reads it."""

    slot: int
    pid: int
    start_time: float
    values: Sequence[float]


@dataclass(frozen=True)
class _Scrape:
    all_files: list[float]  # summed over every file, dead workers' too: counters, histograms
    live_files: list[float]  # summed over live workers' files: gauges
    live_workers: list[_Worker]


# Before open() and after close(), writes raise ValueError rather than touch freed memory.
_CLOSED = memoryview(bytearray(8)).cast("d")
_CLOSED.release()


class _Family:
    kind = ""
    width = 1  # float64 values per series

    def __init__(self, name: str, help: str, labels: Mapping[str, Sequence[str]]):
        self.name = name
        self.help = help
        self.label_names = tuple(labels)
        self.label_values = [tuple(values) for values in labels.values()]
        self.series = list(itertools.product(*self.label_values))
        self._offsets: dict[tuple[str, ...], int] = {}
        self._values: memoryview = _CLOSED

    @property
    def info(self) -> FamilyInfo:
        return FamilyInfo(self.name, self.kind, self.label_names, self.help)

    def _layout(self) -> tuple:
        return (self.kind, self.name, self.label_names, self.series, self.width)

    def _place(self, start: int) -> int:
        """Give each series its offset from `start`; return where the next family starts."""
        self._offsets = {values: start + i * self.width for i, values in enumerate(self.series)}
        return start + len(self.series) * self.width

    def _lines(self, scrape: _Scrape) -> list[str]:
        return [*_header(self.info), *self._samples(scrape)]

    def _samples(self, scrape: _Scrape) -> Iterator[str]:
        for values, offset in self._offsets.items():
            yield _sample(self.name, zip(self.label_names, values), scrape.all_files[offset])


class Counter(_Family):
    """A count that only goes up, summed over every worker that ever ran."""

    kind = "counter"

    def inc(self, *label_values: str, amount: float = 1.0) -> None:
        """Add `amount` (not negative) to the series of these label values."""
        self._values[self._offsets[label_values]] += amount


class Gauge(_Family):
    """A value that goes up and down, summed over live workers or shown per live worker."""

    kind = "gauge"

    def __init__(self, name: str, help: str, labels: Mapping[str, Sequence[str]], aggregate: str):
        super().__init__(name, help, labels)
        self.aggregate = aggregate

    @property
    def info(self) -> FamilyInfo:
        per_worker = ("worker",) if self.aggregate == "worker" else ()
        return FamilyInfo(self.name, self.kind, self.label_names + per_worker, self.help)

    def _layout(self) -> tuple:
        return (*super()._layout(), self.aggregate)

    def set(self, *label_values: str, value: float) -> None:
        """Make `value` this worker's value of the series of these label values."""
        self._values[self._offsets[label_values]] = value

    def add(self, *label_values: str, amount: float) -> None:
        """Add `amount`, which may be negative, to this worker's value of the series."""
        self._values[self._offsets[label_values]] += amount

    def _samples(self, scrape: _Scrape) -> Iterator[str]:
        for values, offset in self._offsets.items():
            labels = list(zip(self.label_names, values))
            if self.aggregate == "sum":
                yield _sample(self.name, labels, scrape.live_files[offset])
                continue
            for worker in scrape.live_workers:
                worker_label = ("worker", str(worker.slot))
                yield _sample(self.name, [*labels, worker_label], worker.values[offset])


class Histogram(_Family):
    """Observations counted into buckets (an observation equal to a bound is in its bucket)."""

    kind = "histogram"

    def __init__(
        self, name: str, help: str, labels: Mapping[str, Sequence[str]], buckets: Sequence[float]
    ):
        super().__init__(name, help, labels)
        self.bounds = tuple(float(bound) for bound in buckets)
        if not self.bounds or list(self.bounds) != sorted(set(self.bounds)):
            raise ValueError(f"{name}: buckets must be given in increasing order")
        if not all(math.isfinite(bound) for bound in self.bounds):
            raise ValueError(f"{name}: buckets must be finite (+Inf is always there)")
        self._le = [repr(bound) for bound in self.bounds] + ["+Inf"]  # as client libraries write
        self._sum_at = len(self._le)
        self.width = len(self._le) + 1

    def _layout(self) -> tuple:
        return (*super()._layout(), self.bounds)

    def observe(self, *label_values: str, value: float) -> None:
        """Count `value` into its bucket of the series of these label values, and into the sum."""
        start = self._offsets[label_values]
        values = self._values
        # bisect_left: a value equal to a bound lands in that bound's bucket, as `le` means.
        values[start + bisect.bisect_left(self.bounds, value)] += 1.0
        values[start + self._sum_at] += value

    def _samples(self, scrape: _Scrape) -> Iterator[str]:
        for values, start in self._offsets.items():
            labels = list(zip(self.label_names, values))
            cumulative = 0.0  # stored per bucket; shown cumulative, so the count is the +Inf one
            for index, le in enumerate(self._le):
                cumulative += scrape.all_files[start + index]
                yield _sample(f"{self.name}_bucket", [*labels, ("le", le)], cumulative)
            yield _sample(f"{self.name}_sum", labels, scrape.all_files[start + self._sum_at])
            yield _sample(f"{self.name}_count", labels, cumulative)


class Registry:
    """The families a service exposes, declared once at start-up; every worker declares the same."""

    def __init__(self):
        self._families: list[_Family] = []
        self._sample_names = {info.name for info in BUILT_IN}
        self._opened = False

    def counter(self, name: str, help: str, labels: Mapping[str, Sequence[str]] = {}) -> Counter:
        """A counter with a series for every combination of the labels' values."""
        return self._declare(Counter(name, help, labels))

    def gauge(
        self,
        name: str,
        help: str,
        labels: Mapping[str, Sequence[str]] = {},
        *,
        aggregate: Literal["sum", "worker"] = "sum",
    ) -> Gauge:
        """A gauge: summed over live workers, or shown per live worker with a `worker` label."""
        if aggregate not in ("sum", "worker"):
            raise ValueError(f"{name}: aggregate is 'sum' or 'worker', not {aggregate!r}")
        return self._declare(Gauge(name, help, labels, aggregate))

    def histogram(
        self,
        name: str,
        help: str,
        labels: Mapping[str, Sequence[str]] = {},
        *,
        buckets: Sequence[float],
    ) -> Histogram:
        """A histogram with these finite bucket bounds, in increasing order (+Inf is added)."""
        return self._declare(Histogram(name, help, labels, buckets))

    def describe(self) -> list[FamilyInfo]:
        """Every family a scrape shows, in the order it shows them."""
        return [family.info for family in self._families] + list(BUILT_IN)

    def open(self, directory: Path | None, *, slot: int, version: str) -> "Store":
        """Map this worker's file in `directory` (None: private memory); no declarations after."""
        if self._opened:
            raise RuntimeError("a registry opens once: it backs one store")
        self._opened = True
        size = 0
        for family in self._families:
            size = family._place(size)
        layout = repr([family._layout() for family in self._families]).encode()
        fingerprint = hashlib.sha256(layout).digest()[:8]
        store = Store(self, directory, slot, version, fingerprint, size)
        for family in self._families:
            family._values = store._values
        return store

    def _declare[F: _Family](self, family: F) -> F:
        if self._opened:
            raise RuntimeError(f"{family.name}: declare every family before open()")
        names = [family.name]
        if isinstance(family, Histogram):
            names += [f"{family.name}_{suffix}" for suffix in ("bucket", "sum", "count")]
        if not METRIC_NAME.fullmatch(family.name) or self._sample_names.intersection(names):
            raise ValueError(f"{family.name}: not a metric name, or one declared already")
        for label, values in zip(family.label_names, family.label_values):
            if not LABEL_NAME.fullmatch(label) or label.startswith("__"):
                raise ValueError(f"{family.name}: {label!r} is not a label name")
            if label in RESERVED_LABELS:
                raise ValueError(f"{family.name}: the scrape adds the label {label!r} itself")
            texts = all(isinstance(value, str) for value in values)
            if not values or len(set(values)) < len(values) or not texts:
                raise ValueError(f"{family.name}: {label} needs distinct string values")
        self._sample_names.update(names)
        self._families.append(family)
        return family


class Store:
    """This worker's values, and the scrape that reads every worker's."""

    def __init__(
        self,
        registry: Registry,
        directory: Path | None,
        slot: int,
        version: str,
        fingerprint: bytes,
        size: int,
    ):
        self._registry = registry
        self._directory = directory
        self._version = version
        self._fingerprint = fingerprint
        self._size = size
        self._file_size = HEADER.size + 8 * size
        self._file_name = f"worker-{slot}-{os.getpid()}.metrics"
        header = HEADER.pack(MAGIC, fingerprint, time.time())
        if directory is None:
            self._buffer: mmap.mmap | bytearray = bytearray(header) + bytes(8 * size)
        else:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / self._file_name
            predecessor = self._predecessor(directory, slot)
            if predecessor is None:
                self._buffer = _map_new_file(path, header, self._file_size)
            else:
                self._buffer = self._take_over(predecessor, path, header)
        self._values = memoryview(self._buffer)[HEADER.size :].cast("d")

    def _predecessor(self, directory: Path, slot: int) -> Path | None:
        """A dead worker's file of this slot and layout, if there is one."""
        for path in directory.glob(f"worker-{slot}-*.metrics"):
            worker = self._worker(path.name, _read(path))
            if worker is not None and not _alive(worker.pid):
                return path
        return None

    def _take_over(self, predecessor: Path, path: Path, header: bytes) -> mmap.mmap:
        """Carry on a dead worker's counts: its gauges zeroed (they were its own), its file
        renamed to this worker's. Until the rename a scrape reads it as a dead worker's file,
        after it as this one's: the counters are counted once all along."""
        with open(predecessor, "r+b") as file:
            mapped = mmap.mmap(file.fileno(), self._file_size)
        values = memoryview(mapped)[HEADER.size :].cast("d")
        for family in self._registry._families:
            if isinstance(family, Gauge):
                for offset in family._offsets.values():
                    values[offset] = 0.0
        values.release()
        mapped[: HEADER.size] = header
        predecessor.rename(path)
        return mapped

    def render(self) -> bytes:
        """The whole service's metrics in the text exposition format, from every worker's file."""
        workers = self._workers()
        # Should a reused pid make two live files claim one slot, the newer file stands for it.
        by_start = sorted(workers, key=lambda worker: worker.start_time)
        live_by_slot = {worker.slot: worker for worker in by_start if _alive(worker.pid)}
        live = sorted(live_by_slot.values(), key=lambda worker: worker.slot)
        scrape = _Scrape(_sum(workers, self._size), _sum(live, self._size), live)
        lines = [line for family in self._registry._families for line in family._lines(scrape)]
        lines += _built_in_lines(live, self._version)
        return ("\n".join(lines) + "\n").encode()

    def close(self) -> None:
        """Unmap this worker's file; the file stays, as its counters still count."""
        self._values.release()  # the families' writes now raise instead of touching freed memory
        if isinstance(self._buffer, mmap.mmap):
            self._buffer.close()

    def _workers(self) -> list[_Worker]:
        if self._directory is None:
            files = [(self._file_name, bytes(self._buffer))]
        else:
            files = [(path.name, _read(path)) for path in self._directory.iterdir()]
        workers = (self._worker(name, data) for name, data in files)
        return [worker for worker in workers if worker]

    def _worker(self, file_name: str, data: bytes | None) -> _Worker | None:
        """The worker a file describes, or None when it is not one of this layout's files."""
        name = FILE_NAME.fullmatch(file_name)
        if not name or not data or len(data) != self._file_size:
            return None
        magic, fingerprint, start_time = HEADER.unpack_from(data)
        if (magic, fingerprint) != (MAGIC, self._fingerprint):
            return None
        values = memoryview(data)[HEADER.size :].cast("d")
        return _Worker(int(name["slot"]), int(name["pid"]), start_time, values)


def _map_new_file(path: Path, header: bytes, size: int) -> mmap.mmap:
    """Write the file under another name, then rename it: a scrape never sees half a file."""
    partial = path.with_suffix(".partial")
    with open(partial, "w+b") as file:
        file.write(header)
        file.truncate(size)
        mapped = mmap.mmap(file.fileno(), size)
    partial.rename(path)
    return mapped


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:  # removed meanwhile, or not a file
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process, e.g. a worker running as another user
        return True
    return True


def _sum(workers: Sequence[_Worker], size: int) -> list[float]:
    totals = [0.0] * size
    for worker in workers:
        totals = [total + value for total, value in zip(totals, worker.values)]
    return totals


def _usage(pid: int) -> tuple[int, int] | None:
    """Resident bytes and open file descriptors of a process, or None once it is gone."""
    try:
        resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        return resident_pages * mmap.PAGESIZE, len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def _built_in_lines(live: Sequence[_Worker], version: str) -> list[str]:
    samples = {START_TIME: [], RESIDENT_MEMORY: [], OPEN_FDS: [], BUILD_INFO: []}
    for worker in live:
        label = [("worker", str(worker.slot))]
        samples[START_TIME].append(_sample(START_TIME.name, label, worker.start_time))
        usage = _usage(worker.pid)
        if usage:  # None when the worker exited a moment ago
            samples[RESIDENT_MEMORY].append(_sample(RESIDENT_MEMORY.name, label, usage[0]))
            samples[OPEN_FDS].append(_sample(OPEN_FDS.name, label, usage[1]))
    samples[BUILD_INFO].append(_sample(BUILD_INFO.name, [("version", version)], 1))
    return [line for info, lines in samples.items() for line in [*_header(info), *lines]]


def _header(info: FamilyInfo) -> list[str]:
    help = info.help.replace("\\", "\\\\").replace("\n", "\\n")
    return [f"# HELP {info.name} {help}", f"# TYPE {info.name} {info.kind}"]


def _sample(name: str, labels: Iterable[tuple[str, str]], value: float) -> str:
    pairs = ",".join(f'{label}="{_escape(text)}"' for label, text in labels)
    return f"{name}{{{pairs}}} {_number(value)}" if pairs else f"{name} {_number(value)}"


def _escape(label_value: str) -> str:
    return label_value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    """Whole numbers without fraction or exponent, so counts read as counts; Go's Inf and NaN."""
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


# The service's families. Label values outside these the caller maps first, e.g. to "other".
UNMATCHED_ROUTE = "unmatched"
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "other")
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
WATCH_OUTCOMES = ("changed", "timeout", "shed", "lost", "shutdown", "gone")
DB_UNAVAILABLE_REASONS = (
    "unreachable",
    "statement_timeout",
    "lost_during_commit",
    "pool_exhausted",
)


class ServiceMetrics:
    """What the app records: e.g. `metrics.http_requests.inc(route, "GET", "2xx")`."""

    def __init__(self, registry: Registry, routes: Sequence[str]):
        prefix = "config_service_"
        self.http_requests = registry.counter(
            f"{prefix}http_requests_total",
            "HTTP requests answered, by route template, method and status class.",
            {"route": [*routes, UNMATCHED_ROUTE], "method": HTTP_METHODS, "status": STATUS_CLASSES},
        )
        self.http_duration = registry.histogram(
            f"{prefix}http_request_duration_seconds",
            "Time from a request's arrival to its response's end, by route template; held "
            "watches are not included (see config_service_watch_ended_total).",
            {"route": [*routes, UNMATCHED_ROUTE]},
            buckets=DURATION_BUCKETS,
        )
        self.http_in_flight = registry.gauge(
            f"{prefix}http_requests_in_flight", "HTTP requests being answered now."
        )
        self.read_hits = registry.counter(
            f"{prefix}read_model_hits_total", "Reads answered from the in-memory read model."
        )
        self.read_misses = registry.counter(
            f"{prefix}read_model_misses_total", "Reads the read model could not answer."
        )
        self.read_loads = registry.counter(
            f"{prefix}read_model_loads_total",
            "Representations read from PostgreSQL; one read answers every request waiting for it.",
        )
        self.read_bytes = registry.gauge(
            f"{prefix}read_model_bytes", "Bytes the in-memory read model holds."
        )
        self.read_entries = registry.gauge(
            f"{prefix}read_model_entries", "Entries the in-memory read model holds."
        )
        self.not_modified = registry.counter(
            f"{prefix}not_modified_total", "Requests answered 304 Not Modified."
        )
        self.notifications = registry.counter(
            f"{prefix}change_notifications_total", "Change notifications received from PostgreSQL."
        )
        self.listener_connected = registry.gauge(
            f"{prefix}listener_connected",
            "1 while the worker listens for change notifications, else 0.",
            aggregate="worker",
        )
        self.listener_reconnects = registry.counter(
            f"{prefix}listener_reconnects_total", "Times the change listener had to connect again."
        )
        self.watch_held = registry.gauge(
            f"{prefix}watch_held_requests", "Watch requests held open, waiting for a change."
        )
        self.watch_ended = registry.counter(
            f"{prefix}watch_ended_total",
            "Watch requests ended, by outcome.",
            {"outcome": WATCH_OUTCOMES},
        )
        self.db_in_use = registry.gauge(
            f"{prefix}db_pool_connections_in_use", "Pooled database connections in use."
        )
        self.db_pool_size = registry.gauge(
            f"{prefix}db_pool_connections", "Database connections in the pools."
        )
        self.db_unavailable = registry.counter(
            f"{prefix}db_unavailable_total",
            "503s answered because the database was unavailable, by reason.",
            {"reason": DB_UNAVAILABLE_REASONS},
        )
        self.db_retries = registry.counter(
            f"{prefix}db_transactions_retried_total", "Database transactions tried again."
        )


def service_registry(routes: Sequence[str]) -> tuple[Registry, ServiceMetrics]:
    """The service's registry, for these route templates, and the families to record into."""
    registry = Registry()
    return registry, ServiceMetrics(registry, routes)


def markdown_table() -> str:
    """The service's families as a Markdown table: name | type | labels | help."""
    registry, _ = service_registry(routes=())
    rows = ["| name | type | labels | help |", "| --- | --- | --- | --- |"]
    for info in registry.describe():
        labels = ", ".join(f"`{label}`" for label in info.labels)
        help = info.help.replace("|", "\\|")  # a bare | would end the cell
        rows.append(f"| `{info.name}` | {info.kind} | {labels} | {help} |")
    return "\n".join(rows) + "\n"


class _Ignored:
    """A family that records nothing (METRICS_ENABLED=false): the calls stay, the cost goes."""

    def inc(self, *label_values: str, amount: float = 1.0) -> None:
        pass

    def set(self, *label_values: str, value: float) -> None:
        pass

    def add(self, *label_values: str, amount: float) -> None:
        pass

    def observe(self, *label_values: str, value: float) -> None:
        pass


class _IgnoringRegistry:
    def counter(self, *args, **kwargs) -> _Ignored:
        return _Ignored()

    gauge = histogram = counter


def ignored_metrics() -> ServiceMetrics:
    """Families that record nothing, for a service that exposes no metrics."""
    return ServiceMetrics(_IgnoringRegistry(), routes=())  # type: ignore[arg-type]

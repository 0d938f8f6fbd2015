"""Metric families: counters, gauges and histograms, each a run of float64 values per series.

A family knows its series and, once placed, its offsets into the values of a worker's store
(store.py); it writes there with plain stores and renders the text exposition format from a
scrape's sums. Generic: nothing here knows the service.
"""

import bisect
import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple


class FamilyInfo(NamedTuple):
    """What a scrape shows of one family, e.g. for the README's table."""

    name: str
    kind: str
    labels: tuple[str, ...]
    help: str


# Families every registry exposes, read when scraped rather than stored by the app. The
# process ones have the names, types, meanings and help texts every Prometheus client library
# gives them (so stock dashboards find them), with one series per live worker (`worker`).
def _process(name: str, kind: str, help: str) -> FamilyInfo:
    return FamilyInfo(name, kind, ("worker",), help)


CPU_SECONDS = _process(
    "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds."
)
VIRTUAL_MEMORY = _process("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.")
RESIDENT_MEMORY = _process(
    "process_resident_memory_bytes", "gauge", "Resident memory size in bytes."
)
START_TIME = _process(
    "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds."
)
OPEN_FDS = _process("process_open_fds", "gauge", "Number of open file descriptors.")
MAX_FDS = _process("process_max_fds", "gauge", "Maximum number of open file descriptors.")
PROCESS = (CPU_SECONDS, VIRTUAL_MEMORY, RESIDENT_MEMORY, START_TIME, OPEN_FDS, MAX_FDS)
BUILD_INFO = FamilyInfo(
    "config_service_build_info", "gauge", ("version",), "Always 1; the label is the version."
)
BUILT_IN = (*PROCESS, BUILD_INFO)


@dataclass(frozen=True)
class Worker:
    """One worker's file as a scrape reads it."""

    slot: int
    pid: int
    start_time: float
    values: Sequence[float]


@dataclass(frozen=True)
class Scrape:
    all_files: list[float]  # summed over every file, dead workers' too: counters, histograms
    live_files: list[float]  # summed over live workers' files: gauges
    live_workers: list[Worker]


# Before open() and after close(), writes raise ValueError rather than touch freed memory.
CLOSED = memoryview(bytearray(8)).cast("d")
CLOSED.release()


class Family:
    kind = ""
    width = 1  # float64 values per series

    def __init__(
        self,
        name: str,
        help: str,
        labels: Mapping[str, Sequence[str]],
        series: Iterable[tuple[str, ...]] | None = None,
    ):
        """`series`, when given, are the only label combinations that can occur (each a tuple
        of values from `labels`); otherwise every combination is one."""
        self.name = name
        self.help = help
        self.label_names = tuple(labels)
        self.label_values = [tuple(values) for values in labels.values()]
        every = list(itertools.product(*self.label_values))
        self.series = every if series is None else list(dict.fromkeys(series))
        if not set(self.series) <= set(every):
            raise ValueError(f"{name}: a series has a value its label does not list")
        self._offsets: dict[tuple[str, ...], int] = {}
        self._values: memoryview = CLOSED

    @property
    def info(self) -> FamilyInfo:
        return FamilyInfo(self.name, self.kind, self.label_names, self.help)

    def layout(self) -> tuple:
        return (self.kind, self.name, self.label_names, self.series, self.width)

    def place(self, start: int) -> int:
        """Give each series its offset from `start`; return where the next family starts."""
        self._offsets = {values: start + i * self.width for i, values in enumerate(self.series)}
        return start + len(self.series) * self.width

    def bind(self, values: memoryview) -> None:
        """Write into `values` from now on (a store's, or the closed view once it is closed)."""
        self._values = values

    def offsets(self) -> Iterable[int]:
        """Where each series starts among the values."""
        return self._offsets.values()

    def lines(self, scrape: Scrape) -> list[str]:
        return [*header_lines(self.info), *self._samples(scrape)]

    def _samples(self, scrape: Scrape) -> Iterator[str]:
        for values, offset in self._offsets.items():
            yield sample_line(self.name, zip(self.label_names, values), scrape.all_files[offset])


class Counter(Family):
    """A count that only goes up, summed over every worker that ever ran."""

    kind = "counter"

    def inc(self, *label_values: str, amount: float = 1.0) -> None:
        """Add `amount` (not negative) to the series of these label values."""
        self._values[self._offsets[label_values]] += amount


class Gauge(Family):
    """A value that goes up and down, summed over live workers or shown per live worker."""

    kind = "gauge"

    def __init__(self, name: str, help: str, labels: Mapping[str, Sequence[str]], aggregate: str):
        super().__init__(name, help, labels)
        self.aggregate = aggregate

    @property
    def info(self) -> FamilyInfo:
        per_worker = ("worker",) if self.aggregate == "worker" else ()
        return FamilyInfo(self.name, self.kind, self.label_names + per_worker, self.help)

    def layout(self) -> tuple:
        return (*super().layout(), self.aggregate)

    def set(self, *label_values: str, value: float) -> None:
        """Make `value` this worker's value of the series of these label values."""
        self._values[self._offsets[label_values]] = value

    def add(self, *label_values: str, amount: float) -> None:
        """Add `amount`, which may be negative, to this worker's value of the series."""
        self._values[self._offsets[label_values]] += amount

    def _samples(self, scrape: Scrape) -> Iterator[str]:
        for values, offset in self._offsets.items():
            labels = list(zip(self.label_names, values))
            if self.aggregate == "sum":
                yield sample_line(self.name, labels, scrape.live_files[offset])
                continue
            for worker in scrape.live_workers:
                worker_label = ("worker", str(worker.slot))
                yield sample_line(self.name, [*labels, worker_label], worker.values[offset])


class Histogram(Family):
    """Observations counted into buckets (an observation equal to a bound is in its bucket)."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        help: str,
        labels: Mapping[str, Sequence[str]],
        buckets: Sequence[float],
        series: Iterable[tuple[str, ...]] | None = None,
    ):
        super().__init__(name, help, labels, series)
        self.bounds = tuple(float(bound) for bound in buckets)
        if not self.bounds or list(self.bounds) != sorted(set(self.bounds)):
            raise ValueError(f"{name}: buckets must be given in increasing order")
        if not all(math.isfinite(bound) for bound in self.bounds):
            raise ValueError(f"{name}: buckets must be finite (+Inf is always there)")
        self._le = [repr(bound) for bound in self.bounds] + ["+Inf"]  # as client libraries write
        self._sum_at = len(self._le)
        self.width = len(self._le) + 1

    def layout(self) -> tuple:
        return (*super().layout(), self.bounds)

    def observe(self, *label_values: str, value: float) -> None:
        """Count `value` into its bucket of the series of these label values, and into the sum."""
        start = self._offsets[label_values]
        values = self._values
        # bisect_left: a value equal to a bound lands in that bound's bucket, as `le` means.
        values[start + bisect.bisect_left(self.bounds, value)] += 1.0
        values[start + self._sum_at] += value

    def _samples(self, scrape: Scrape) -> Iterator[str]:
        for values, start in self._offsets.items():
            labels = list(zip(self.label_names, values))
            cumulative = 0.0  # stored per bucket; shown cumulative, so the count is the +Inf one
            for index, le in enumerate(self._le):
                cumulative += scrape.all_files[start + index]
                yield sample_line(f"{self.name}_bucket", [*labels, ("le", le)], cumulative)
            yield sample_line(f"{self.name}_sum", labels, scrape.all_files[start + self._sum_at])
            yield sample_line(f"{self.name}_count", labels, cumulative)


def header_lines(info: FamilyInfo) -> list[str]:
    help = info.help.replace("\\", "\\\\").replace("\n", "\\n")
    return [f"# HELP {info.name} {help}", f"# TYPE {info.name} {info.kind}"]


def sample_line(name: str, labels: Iterable[tuple[str, str]], value: float) -> str:
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

"""The families a service declares, once, at start-up: checked, then laid out in a store.

Every worker declares the same families in the same order, so every worker computes the same
layout, and its fingerprint tells a scrape which files are of this layout (store.py).
"""

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from config_service.telemetry.families import (
    BUILT_IN,
    Counter,
    Family,
    FamilyInfo,
    Gauge,
    Histogram,
)
from config_service.telemetry.store import Store

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
RESERVED_LABELS = {"le", "worker"}  # the scrape adds these: histogram buckets, per-worker gauges


class Registry:
    """The families a service exposes, declared once at start-up; every worker declares the same."""

    # What each declaration makes (ignored.py makes families that record nothing).
    counter_type: type[Counter] = Counter
    gauge_type: type[Gauge] = Gauge
    histogram_type: type[Histogram] = Histogram

    def __init__(self):
        self._families: list[Family] = []
        self._sample_names = {info.name for info in BUILT_IN}
        self._opened = False

    def counter(
        self,
        name: str,
        help: str,
        labels: Mapping[str, Sequence[str]] = {},
        *,
        series: Iterable[tuple[str, ...]] | None = None,
    ) -> Counter:
        """A counter with a series for each of `series`, or else every combination of the
        labels' values."""
        return self._declare(self.counter_type(name, help, labels, series))

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
        return self._declare(self.gauge_type(name, help, labels, aggregate))

    def histogram(
        self,
        name: str,
        help: str,
        labels: Mapping[str, Sequence[str]] = {},
        *,
        buckets: Sequence[float],
        series: Iterable[tuple[str, ...]] | None = None,
    ) -> Histogram:
        """A histogram with these finite bucket bounds, in increasing order (+Inf is added),
        and a series for each of `series`, or else every combination of the labels' values."""
        return self._declare(self.histogram_type(name, help, labels, buckets, series))

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
            size = family.place(size)
        layout = repr([family.layout() for family in self._families]).encode()
        fingerprint = hashlib.sha256(layout).digest()[:8]
        return Store(tuple(self._families), directory, slot, version, fingerprint, size)

    def _declare[F: Family](self, family: F) -> F:
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

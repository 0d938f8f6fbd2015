"""Families that record nothing (METRICS_ENABLED=false): the calls stay, the cost goes.

Each is a subclass of the real family, so the service's catalogue is typed the same either way.
"""

from collections.abc import Mapping, Sequence
from typing import Literal

from config_service.telemetry.catalogue import ServiceMetrics
from config_service.telemetry.families import Counter, Gauge, Histogram


class IgnoredCounter(Counter):
    def inc(self, *label_values: str, amount: float = 1.0) -> None:
        pass


class IgnoredGauge(Gauge):
    def set(self, *label_values: str, value: float) -> None:
        pass

    def add(self, *label_values: str, amount: float) -> None:
        pass


class IgnoredHistogram(Histogram):
    def observe(self, *label_values: str, value: float) -> None:
        pass


class IgnoringRegistry:
    """Declares families that record nothing; nothing is laid out, nothing can be scraped."""

    def counter(self, name: str, help: str, labels: Mapping[str, Sequence[str]] = {}) -> Counter:
        return IgnoredCounter(name, help, labels)

    def gauge(
        self,
        name: str,
        help: str,
        labels: Mapping[str, Sequence[str]] = {},
        *,
        aggregate: Literal["sum", "worker"] = "sum",
    ) -> Gauge:
        return IgnoredGauge(name, help, labels, aggregate)

    def histogram(
        self,
        name: str,
        help: str,
        labels: Mapping[str, Sequence[str]] = {},
        *,
        buckets: Sequence[float],
    ) -> Histogram:
        return IgnoredHistogram(name, help, labels, buckets)


def ignored_metrics() -> ServiceMetrics:
    """Families that record nothing, for a service that exposes no metrics."""
    return ServiceMetrics(IgnoringRegistry(), routes=())

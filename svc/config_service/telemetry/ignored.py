"""Families that record nothing (METRICS_ENABLED=false): the calls stay, the cost goes.

Each is a subclass of the real family, so the service's catalogue is typed the same either way.
"""

from config_service.telemetry.catalogue import ServiceMetrics
from config_service.telemetry.families import Counter, Gauge, Histogram
from config_service.telemetry.registry import Registry


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


class IgnoringRegistry(Registry):
    """Declares families that record nothing; never opened, so nothing can be scraped."""

    counter_type = IgnoredCounter
    gauge_type = IgnoredGauge
    histogram_type = IgnoredHistogram


def ignored_metrics() -> ServiceMetrics:
    """Families that record nothing, for a service that exposes no metrics."""
    return ServiceMetrics(IgnoringRegistry(), routes=())

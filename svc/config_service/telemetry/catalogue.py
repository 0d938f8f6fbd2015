"""The service's own metric families: what the app records, e.g.
`metrics.http_requests.inc(route, "GET", "2xx")`.

Label values are taken from the types they describe, so a new outcome or reason cannot be
recorded without a series to record it in.
"""

from collections.abc import Collection, Mapping
from typing import get_args

from config_service.errors import UnavailableReason
from config_service.reads import Outcome
from config_service.telemetry.registry import Registry

UNMATCHED_ROUTE = "unmatched"
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "other")
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")
READ_STATUSES = STATUS_CLASSES  # 304 is a GET's answer, never a write's
WRITE_STATUSES = ("2xx", "4xx", "5xx")
REFUSED_STATUSES = ("4xx", "5xx")  # a method a route does not serve, or a path none serves
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
WATCH_OUTCOMES: tuple[str, ...] = get_args(Outcome.__value__)
DB_UNAVAILABLE_REASONS: tuple[str, ...] = get_args(UnavailableReason)
# What a PUT with Config-Rollout does to a rollout (configurations/rollouts.py says so too).
ROLLOUT_CHANGES = ("started", "changed", "replaced", "promoted", "aborted")


class ServiceMetrics:
    """Every family the service records into, declared in the order a scrape shows them."""

    def __init__(self, registry: Registry, routes: Mapping[str, Collection[str]]):
        prefix = "config_service_"
        self.http_requests = registry.counter(
            f"{prefix}http_requests_total",
            "HTTP requests answered, by route template, method (`other`: one the route does "
            "not serve) and status class.",
            {"route": [*routes, UNMATCHED_ROUTE], "method": HTTP_METHODS, "status": STATUS_CLASSES},
            series=http_series(routes),
        )
        self.http_duration = registry.histogram(
            f"{prefix}http_request_duration_seconds",
            "Time from a request's arrival to its response's end, by route template and "
            "method; held watches are not included (see config_service_watch_ended_total).",
            {"route": [*routes, UNMATCHED_ROUTE], "method": HTTP_METHODS},
            buckets=DURATION_BUCKETS,
            series=duration_series(routes),
        )
        self.http_in_flight = registry.gauge(
            f"{prefix}http_requests_in_flight",
            "HTTP requests being answered now, held watches not included (they are "
            "config_service_watch_held_requests).",
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
        self.revisions_recorded = registry.counter(
            f"{prefix}configuration_revisions_recorded_total",
            "Configuration revisions recorded by writes through the API (not SQL's).",
        )
        self.revisions_removed = registry.counter(
            f"{prefix}configuration_revisions_removed_total",
            "Configuration revisions deleted by retention (REVISIONS_KEEP).",
        )
        # Rollouts (docs/rollouts.md). How many run now is the database's to say:
        # started - promoted - aborted over the fleet, or SELECT from configuration_rollouts.
        self.rollout_changes = registry.counter(
            f"{prefix}rollout_changes_total",
            "Rollout changes, by change (PUTs with Config-Rollout; scheduled promotions too).",
            {"change": ROLLOUT_CHANGES},
        )
        self.rollout_aborts = registry.counter(
            f"{prefix}rollout_aborts_total",
            "Rollouts aborted, by cause: a PUT with Config-Rollout: 0, or max-failures reached.",
            {"cause": ("operator", "automatic")},
        )
        self.rollouts_running = registry.gauge(
            f"{prefix}rollouts_running",
            "Rollouts running over the fleet, as this worker last counted them (every ~5 s).",
            aggregate="worker",
        )
        self.rollout_steps = registry.counter(
            f"{prefix}rollout_steps_total", "Scheduled rollout steps taken (step=;every=)."
        )
        self.rollout_rejections = registry.counter(
            f"{prefix}rollout_rejections_total",
            "Config-Rejected reports counted (one per distinct client of a candidate's cohort).",
        )


def served_methods(methods: Collection[str]) -> frozenset[str]:
    """The methods a route answers, as the metrics name them: HEAD wherever GET is served."""
    served = frozenset(methods) & frozenset(HTTP_METHODS)
    return served | {"HEAD"} if "GET" in served else served


def http_series(routes: Mapping[str, Collection[str]]) -> list[tuple[str, str, str]]:
    """The (route, method, status class) series that can occur, and no others: a route's
    own methods with their answers, any other method (`other`) and any unmatched path only
    refused."""
    series = []
    for route, methods in routes.items():
        for method in sorted(served_methods(methods)):
            statuses = READ_STATUSES if method in ("GET", "HEAD") else WRITE_STATUSES
            series += [(route, method, status) for status in statuses]
        series += [(route, "other", status) for status in REFUSED_STATUSES]
    for method in HTTP_METHODS:
        series += [(UNMATCHED_ROUTE, method, status) for status in REFUSED_STATUSES]
    return series


def duration_series(routes: Mapping[str, Collection[str]]) -> list[tuple[str, str]]:
    """The (route, method) series of the latency histogram: those of http_series()."""
    return list(dict.fromkeys((route, method) for route, method, _ in http_series(routes)))


def http_labels(
    route: str | None, methods: Collection[str], method: str, status: int
) -> tuple[str, str, str]:
    """The series of a request answered `status`: `route` None when no route matched. (Per
    request: decided as served_methods() does, without building its sets.)"""
    status_class = f"{status // 100}xx"
    if route is None:
        return UNMATCHED_ROUTE, method if method in HTTP_METHODS else "other", status_class
    served = method in methods or (method == "HEAD" and "GET" in methods)
    return route, method if served and method in HTTP_METHODS else "other", status_class


def service_registry(routes: Mapping[str, Collection[str]]) -> tuple[Registry, ServiceMetrics]:
    """The service's registry, for these route templates (each with the methods it serves),
    and the families to record into."""
    registry = Registry()
    return registry, ServiceMetrics(registry, routes)

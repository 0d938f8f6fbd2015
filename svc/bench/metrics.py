"""The service's GET /metrics (Prometheus text), read as {metric name: value}."""

import httpx

HITS = "config_service_read_model_hits_total"
MISSES = "config_service_read_model_misses_total"
LOADS = "config_service_read_model_loads_total"  # reads from PostgreSQL
HELD = "config_service_watch_held_requests"


def parse(text: str) -> dict[str, float]:
    """Each sample's value, summed over the label sets of one name; comments skipped."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "{" in line:  # name{label="value", ...} value [timestamp]
            name = line[: line.index("{")]
            rest = line[line.rindex("}") + 1 :].split()
        else:  # name value [timestamp]
            name, *rest = line.split()
        values[name] = values.get(name, 0.0) + float(rest[0])
    return values


def read(base_url: str) -> dict[str, float] | None:
    """The service's metrics, or None when it has no /metrics (404, or not Prometheus text)."""
    response = httpx.get(base_url + "/metrics", timeout=10)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return parse(response.text)


def hits_and_misses(values: dict[str, float] | None) -> tuple[int, int] | None:
    """(read model hits, misses), or None when the service does not count them."""
    if values is None or HITS not in values or MISSES not in values:
        return None
    return int(values[HITS]), int(values[MISSES])

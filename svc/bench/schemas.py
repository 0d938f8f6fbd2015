"""The cost of schemas: the same PUTs and GETs of configurations attached to a 40-property
JSON Schema and of configurations attached to none, interleaved round after round on one
service; and how long a schema's change takes to be judged against 1,000 followers.
"""

import time
import uuid

import httpx

from bench import report, scripts

PROPERTIES = 40
CONFIGURATIONS = 100  # of each kind, cycled through by the PUTs and GETs
FOLLOWERS = 1000


def forty_property_schema(minimum: int = 0) -> dict:
    """An object schema of 40 typed, bounded properties, all required."""
    properties = {
        f"setting_{n}": {"type": "integer", "minimum": minimum, "maximum": 1_000_000}
        for n in range(PROPERTIES)
    }
    return {"type": "object", "required": sorted(properties), "properties": properties}


def document(value: int = 1) -> dict:
    """A config the schema accepts."""
    return {f"setting_{n}": value + n for n in range(PROPERTIES)}


def _link(schema_id: str) -> dict[str, str]:
    return {"Link": f'</api/v1/configurations/{schema_id}>; rel="describedby"'}


def _create(http: httpx.Client, application_id: str, name: str, config: dict, headers=None) -> dict:
    body = {"application_id": application_id, "name": name, "config": config}
    response = http.post("/api/v1/configurations", json=body, headers=headers or {})
    response.raise_for_status()
    return response.json()


def seed(http: httpx.Client, prefix: str, followers: int) -> tuple[str, list[dict]]:
    """A schema and `followers` configurations attached to it, in one new application."""
    created = http.post("/api/v1/applications", json={"name": f"{prefix}-{uuid.uuid4().hex[:8]}"})
    created.raise_for_status()
    application_id = created.json()["id"]
    schema = _create(http, application_id, "schema", forty_property_schema())
    attached = [
        _create(http, application_id, f"attached-{n}", document(n), _link(schema["id"]))
        for n in range(followers)
    ]
    return schema["id"], attached


def schemas_phase(bench, service, repetitions: int) -> None:
    """PUT and GET, attached against unattached; then the verdict on 1,000 followers."""
    with httpx.Client(base_url=service.url, timeout=60) as http:
        _, attached = seed(http, "bench-attached", CONFIGURATIONS)
        name = f"bench-unattached-{uuid.uuid4().hex[:8]}"
        application = http.post("/api/v1/applications", json={"name": name}).json()
        plain = [
            _create(http, application["id"], f"plain-{n}", document(n))
            for n in range(CONFIGURATIONS)
        ]
        paths = lambda configurations: [f"/api/v1/configurations/{c['id']}" for c in configurations]  # noqa: E731
        pairs = [
            [
                (report.PUT_UNATTACHED, lambda: scripts.put_each(plain)),
                (report.PUT_ATTACHED, lambda: scripts.put_each(attached)),
            ],
            [
                (report.GET_UNATTACHED, lambda: scripts.get_each(paths(plain))),
                (report.GET_ATTACHED, lambda: scripts.get_each(paths(attached))),
            ],
        ]
        for number in range(repetitions):
            for pair in pairs:
                # A then B, then B then A: neither side always runs second, on a PostgreSQL
                # warmer (or busier with autovacuum) than the first found it.
                for name, script in pair if number % 2 == 0 else reversed(pair):
                    bench.measure(name, service.url, script)
        bench.measured.schema_verdicts = verdict_seconds(http)


def verdict_seconds(http: httpx.Client) -> dict[int, float]:
    """Seconds to judge a schema's change against 1,000 unpinned followers: refused (409, one
    of them breaks) and accepted (200), each the time of one PUT."""
    schema_id, followers = seed(http, "bench-verdict", FOLLOWERS)
    schema = http.get(f"/api/v1/configurations/{schema_id}").json()
    # The last follower has setting_0 = 999: a minimum of 999 breaks every other one but it,
    # which is the slowest case: the check reads them all before it can say which.
    seconds = {}
    for status, minimum in ((409, 999), (200, 0)):
        body = {"name": schema["name"], "config": forty_property_schema(minimum)}
        body["config"]["description"] = f"change {status}"  # a change either way
        started = time.perf_counter()
        response = http.put(f"/api/v1/configurations/{schema_id}", json=body)
        seconds[status] = time.perf_counter() - started
        if response.status_code != status:
            raise RuntimeError(f"expected {status}, got {response.status_code}: {response.text}")
    return seconds

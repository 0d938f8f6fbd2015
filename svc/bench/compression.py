"""The bench's compression scenario: a 1 MB configuration, and the bytes an answer takes on the
wire with and without `Accept-Encoding: gzip`."""

import http.client
import json
from urllib.parse import urlsplit

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}
LARGE_BYTES = 1_000_000  # under MAX_BODY_BYTES (1 MiB) with the request's other members


def large_config(size: int = LARGE_BYTES) -> dict:
    """About `size` bytes of JSON (never more): the settings of many services, as a large
    deployment's configuration holds them (names, hosts, numbers and flags that repeat with
    variations, not random bytes)."""
    services: dict[str, dict] = {}
    used = 2  # the braces
    for n in range(size):
        entry = {
            "host": f"svc-{n:05d}.{('eu-west-1', 'us-east-2', 'ap-south-1')[n % 3]}.internal",
            "port": 8000 + n % 1000,
            "replicas": 1 + n % 7,
            "timeouts_ms": {"connect": 250 + n % 13 * 10, "read": 2500 + n % 11 * 100},
            "retries": {"max": n % 5, "backoff_ms": 100 * (1 + n % 4)},
            "features": {"tracing": n % 2 == 0, "canary": n % 10 == 0, "gzip": n % 3 != 0},
            "owner": f"team-{n % 37}@example.com",
        }
        name = f"service-{n:05d}"
        cost = len(json.dumps({name: entry})) - 2 + (2 if services else 0)  # ", " between
        if used + cost > size:
            break
        services[name] = entry
        used += cost
    return {"services": services}


def wire_bytes(base_url: str, path: str, headers: dict[str, str]) -> tuple[int, str | None]:
    """The bytes one answer to GET `path` takes on the wire (status line, headers and body as
    sent: http.client does not decode it), and its Content-Encoding."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        status_line = f"HTTP/1.1 {response.status} {response.reason}\r\n"
        header_lines = "".join(f"{name}: {value}\r\n" for name, value in response.getheaders())
        size = len(status_line) + len(header_lines) + 2 + len(body)  # + the empty line
        return size, response.getheader("Content-Encoding")
    finally:
        connection.close()

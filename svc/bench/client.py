"""The client's two targets, measured against a real server on a fresh database.

`python -m bench.client`: how soon a follower sees a PUT (p99 over --changes changes) and how
many requests that costs the service; how long `config-service apply` takes to provision
--applications x --configurations into an empty service, and what a second apply writes.
"""

import argparse
import contextlib
import io
import json
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench import servers
from bench.data import bench_database
from config_service.settings import get_settings
from config_service_client import ConfigClient
from config_service_client.cli import main as cli

REQUESTS = "config_service_http_requests_total"


def requests_by_method(url: str) -> dict[str, float]:
    """The service's API request counters summed by method (from /metrics, not counting it)."""
    counts: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith(REQUESTS + "{") and 'route="/api/v1/' in line:
            labels, value = line[len(REQUESTS) + 1 :].rsplit("} ", 1)
            method = labels.split('method="')[1].split('"')[0]
            counts[method] = counts.get(method, 0) + float(value)
    return counts


def follow_latency(url: str, changes: int) -> dict:
    """Seconds from each PUT's answer to the follower's callback, and GETs per change."""
    with httpx.Client(base_url=f"{url}/api/v1", timeout=10) as http:
        application = http.post("/applications", json={"name": "bench-follow"}).json()
        body = {"application_id": application["id"], "name": "c", "config": {"v": 0}}
        configuration = http.post("/configurations", json=body).json()
        seen = {}
        arrived = threading.Condition()

        def on_change(config: dict) -> None:
            with arrived:
                seen[config["v"]] = time.perf_counter()
                arrived.notify_all()

        follower = ConfigClient(url).follow(configuration["id"])
        follower.on_change(on_change)
        follower.start().wait(10)
        time.sleep(0.2)  # the first held request is in
        before = requests_by_method(url)
        latencies = []
        for version in range(1, changes + 1):
            put = {"name": "c", "config": {"v": version}}
            http.put(f"/configurations/{configuration['id']}", json=put).raise_for_status()
            written = time.perf_counter()
            with arrived:
                if not arrived.wait_for(lambda: version in seen, 10):
                    raise RuntimeError(f"change {version} not seen within 10 s")
            latencies.append(max(0.0, seen[version] - written))
        time.sleep(0.2)
        after = requests_by_method(url)
        follower.stop()
    latencies.sort()
    gets = after.get("GET", 0) - before.get("GET", 0)
    return {
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "gets_per_change": gets / changes,
    }


def apply_timing(url: str, applications: int, configurations: int, work: Path) -> dict:
    """Seconds for the first apply into an empty service; the second's time and writes."""
    for application in range(applications):
        folder = work / f"app-{application:03d}"
        folder.mkdir(parents=True)
        for configuration in range(configurations):
            config = {"n": configuration, "feature": {"on": True, "hosts": ["a", "b"]}}
            (folder / f"conf-{configuration:02d}.json").write_text(json.dumps(config))
    timings = {}
    for run in ("first", "second"):
        before = requests_by_method(url)
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            if cli(["--url", url, "apply", str(work)]) != 0:
                raise RuntimeError(f"the {run} apply failed")
        timings[run] = time.perf_counter() - started
        after = requests_by_method(url)
        writes = sum(after.get(m, 0) - before.get(m, 0) for m in ("POST", "PUT"))
        timings[f"{run}_writes"] = writes
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.client", description=__doc__)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--applications", type=int, default=100)
    parser.add_argument("--configurations", type=int, default=10)
    arguments = parser.parse_args(argv)
    with bench_database(get_settings().dsn) as dsn, tempfile.TemporaryDirectory() as work:
        with servers.service("client-bench", dsn, Path(work), workers=1) as server:
            url = f"http://127.0.0.1:{server.port}"
            follow = follow_latency(url, arguments.changes)
            applied = apply_timing(
                url, arguments.applications, arguments.configurations, Path(work) / "tree"
            )
    total = arguments.applications * arguments.configurations
    print(
        f"follow: {arguments.changes} PUTs seen in p50 {follow['p50'] * 1000:.1f} ms, "
        f"p99 {follow['p99'] * 1000:.1f} ms (target < 1000 ms); "
        f"{follow['gets_per_change']:.2f} GETs per change (target 1: one held request)"
    )
    print(
        f"apply: {arguments.applications} applications x {arguments.configurations} "
        f"configurations ({total}) into an empty service in {applied['first']:.1f} s "
        f"(target < 30 s, {applied['first_writes']:.0f} writes); second apply "
        f"{applied['second']:.1f} s, {applied['second_writes']:.0f} writes (target 0)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

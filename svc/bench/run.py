"""`make bench`: the service against a baseline, on this machine, in one run.

Creates a fresh `config_service_bench` database on the DATABASE_URL server, starts the
service (1 worker) and the baseline, seeds 100 applications x 10 configurations of ~1 KB
through the API, and loads each scenario with wrk (same settings for all). GET
configuration is repeated on 2 workers, and on plain `uvicorn --workers 2` to show what
the service's own workers are worth, before the write scenarios change the tables (and
wake autovacuum). Prints the table and the targets; exits 1 when a target is missed.
"""

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg2
from psycopg2 import sql

from bench import report, scripts, wrk
from config_service.migrations import apply_migrations
from config_service.settings import SVC_DIR, get_settings

RESULTS_DIR = SVC_DIR / "bench" / "results"
BENCH_DATABASE = "config_service_bench"
SERVICE_PORT, BASELINE_PORT, TWO_WORKERS_PORT = 8765, 8766, 8767

# About 1 KB of JSON, like a real configuration.
CONFIG = {
    "database": {"host": "db.internal", "port": 5432, "pool": {"min": 2, "max": 20}},
    "features": {f"flag_{n}": n % 2 == 0 for n in range(20)},
    "endpoints": [f"https://api-{n}.example.com/v1" for n in range(8)],
    "limits": {"requests_per_minute": 6000, "burst": 200, "timeout_ms": 2500},
    "description": "x" * 200,
}


@dataclass
class Seeded:
    application_ids: list[str] = field(default_factory=list)
    configurations: list[dict] = field(default_factory=list)
    etags: dict[str, str] = field(default_factory=dict)


def seed(http, applications: int = 100, configurations: int = 10, config: dict = CONFIG) -> Seeded:
    """Create the data every scenario reads, through the API itself."""
    seeded = Seeded()
    for a in range(applications):
        response = http.post("/api/v1/applications", json={"name": f"bench-app-{a}"})
        response.raise_for_status()
        application_id = response.json()["id"]
        seeded.application_ids.append(application_id)
        for c in range(configurations):
            body = {"application_id": application_id, "name": f"config-{c}", "config": config}
            response = http.post("/api/v1/configurations", json=body)
            response.raise_for_status()
            seeded.configurations.append(response.json())
            seeded.etags[f"/api/v1/configurations/{response.json()['id']}"] = response.headers[
                "etag"
            ]
    return seeded


def bench_dsn(dsn: str) -> str:
    return urlsplit(dsn)._replace(path=f"/{BENCH_DATABASE}").geturl()


def recreate_database(dsn: str) -> None:
    admin = psycopg2.connect(urlsplit(dsn)._replace(path="/postgres").geturl())
    admin.autocommit = True
    with admin.cursor() as cursor:
        name = sql.Identifier(BENCH_DATABASE)
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(name))
    admin.close()
    apply_migrations(dsn)


class Server:
    """A server process; waits until it answers and stops it with SIGTERM."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, log_name: str):
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(RESULTS_DIR / log_name, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=SVC_DIR, env={**os.environ, **env}, stdout=self.log, stderr=self.log
        )

    def wait_until_answering(self, path: str) -> "Server":
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.process.args} exited; see {self.log.name}")
            try:
                httpx.get(self.url + path, timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.process.args} did not answer; see {self.log.name}")

    def resident_kb(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(
            next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        self.log.close()


def service(dsn: str, workers: int, port: int, *, plain_uvicorn: bool = False) -> Server:
    env = {
        "DATABASE_URL": dsn,
        "PORT": str(port),
        "WORKERS": str(workers),
        "LOG_FORMAT": "json",
    }
    if plain_uvicorn:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "config_service.main:create_app",
            "--factory",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
        ]
        log_name = f"service-plain-{workers}w.log"
    else:
        command = [sys.executable, "-m", "config_service.server"]
        log_name = f"service-{workers}w.log"
    return Server(command, env, port, log_name).wait_until_answering("/health/ready")


def main() -> int:
    RESULTS_DIR.mkdir(exist_ok=True)
    settings = get_settings()
    dsn = bench_dsn(settings.dsn)
    print(
        f"bench: fresh database {BENCH_DATABASE}; wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS} "
        f"-d{wrk.MEASURE_SECONDS}s after a {wrk.WARM_UP_SECONDS}s warm-up",
        flush=True,
    )
    recreate_database(dsn)
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    results: dict[str, wrk.Result] = {}

    def measure(name: str, url: str, make_script, after_warm_up=None) -> None:
        """Warm up, then measure; each run gets its own script (POST names must be new)."""
        warm_up, measured = work / f"{len(results)}-warm-up.lua", work / f"{len(results)}.lua"
        warm_up.write_text(make_script())
        measured.write_text(make_script())
        wrk.run(url, warm_up, wrk.WARM_UP_SECONDS)
        if after_warm_up:
            after_warm_up()
        results[name] = wrk.run(url, measured)
        print(f"  {name}: {results[name].requests_per_second:.0f} req/s", flush=True)

    one_worker = service(dsn, workers=1, port=SERVICE_PORT)
    baseline = Server(
        [sys.executable, "-m", "bench.baseline"],
        {
            "DATABASE_URL": dsn,
            "PORT": str(BASELINE_PORT),
            "DB_POOL_SIZE": str(settings.db_pool_size),
        },
        BASELINE_PORT,
        "baseline.log",
    ).wait_until_answering("/docs")
    with httpx.Client(base_url=one_worker.url, timeout=30) as http:
        seeded = seed(http)
    configuration_paths = list(seeded.etags)
    application_paths = [f"/api/v1/applications/{a}" for a in seeded.application_ids]
    baseline_paths = [path.removeprefix("/api/v1") for path in configuration_paths]
    memory = {}
    try:
        measure(report.BASELINE, baseline.url, lambda: scripts.get_each(baseline_paths))
        measure(
            report.GET_CONFIGURATION,
            one_worker.url,
            lambda: scripts.get_each(configuration_paths),
            after_warm_up=lambda: memory.update(after=one_worker.resident_kb()),
        )
        measure(report.GET_APPLICATION, one_worker.url, lambda: scripts.get_each(application_paths))
        measure(
            report.LIST_APPLICATIONS,
            one_worker.url,
            lambda: scripts.get_each(["/api/v1/applications"]),
        )
        measure(
            report.CONDITIONAL_GET,
            one_worker.url,
            lambda: scripts.revalidate_each(list(seeded.etags.items())),
        )
        # The 1-worker service and the baseline sit idle meanwhile.
        for name, plain in ((report.TWO_WORKERS, False), (report.TWO_WORKERS_PLAIN, True)):
            two_workers = service(dsn, workers=2, port=TWO_WORKERS_PORT, plain_uvicorn=plain)
            try:
                measure(name, two_workers.url, lambda: scripts.get_each(configuration_paths))
            finally:
                two_workers.stop()
        measure(
            report.POST_CONFIGURATION,
            one_worker.url,
            lambda: scripts.post_new_configurations(seeded.application_ids, CONFIG),
        )
        measure(
            report.PUT_CONFIGURATION,
            one_worker.url,
            lambda: scripts.put_each(seeded.configurations),
        )
        memory["end"] = one_worker.resident_kb()
    finally:
        one_worker.stop()
        baseline.stop()

    outcomes = report.targets(results, report.Memory(memory["after"], memory["end"]))
    print()
    print(report.table(results))
    print()
    print(report.verdict_lines(outcomes))
    return 0 if all(met for _, met, _ in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: the service against a baseline and floors, on this machine, in one run.

Creates a fresh `config_service_bench` database on the DATABASE_URL server (dropped at the
end, also on failure or Ctrl-C), starts every server on a free port, and measures:

  read   wrk -t1 -c32 on 1-worker servers: the baseline, the service with and without its
         read model and metrics, its /health/live, applications, 2 workers, a constant FastAPI
         endpoint (bench.floor), a ~1 KB and a 1 MB configuration with and without gzip
         (and their bytes on the wire); the compared
         servers interleaved, round after round; then the scenarios without a target, once.
  write  POST and PUT configuration, interleaved with the baseline.
  access GET configuration and a list page with a global and a scoped token, interleaved.
  churn  100,000 configurations, 30 s of random GETs through a 16 MiB read model: RSS growth.
  watch  floors (apps that only hold requests), propagation between two services, 10,000
         held on one worker, and the fan-out of one PUT to all of them.
  applications  an application read whole from memory (?include=configurations), and 10,000
         watches of it woken by one PUT (applications.py).
  faults the service behind a TCP proxy that stalls: 200 requests needing PostgreSQL, 16 at a
         time, each answered 503 in bounded time; then the time to recover (faults.py).
  schemas PUT and GET of configurations attached to a 40-property schema against unattached
         ones, interleaved; the verdict on a schema change with 1,000 followers (schemas.py).
  soak   2 workers under mixed load and held watches through four faults: stopped, frozen,
         backends and listener killed; no write lost, only 503s, bounded (soak.py).

Each wrk run is a 1 s warm-up then 5 s measured. Prints one table and the targets; exits 1
when a target FAILs (NOISE and SKIP are reported, not failures).
"""

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench import (
    access,
    applications,
    faults,
    metrics,
    schemas,
    watchdog_cost,
    rawhttp,
    report,
    scripts,
    servers,
    soak,
    watch,
    wrk,
)
from bench.compression import GZIP, IDENTITY, large_config, wire_bytes
from bench.data import CONFIG, Seeded, bench_database, seed, seed_many
from bench.report import Measurements
from config_service.settings import SVC_DIR, get_settings

RESULTS_DIR = SVC_DIR / "bench" / "results"  # the servers' logs
PHASES = (
    "read", "write", "access", "schemas", "churn", "watch", "applications", "faults", "soak"
)
CHURN_CONFIGURATIONS = 100_000
CHURN_CACHE_BYTES = 16 * 1024 * 1024
CHURN_SECONDS = 30  # long enough to read ~35,000 distinct ids: see report.CHURN_OVERHEAD_BYTES


class Bench:
    """Runs wrk scenarios, keeping each repetition's result in `measured`."""

    def __init__(self, work: Path, measured: Measurements):
        self.work = work
        self.measured = measured
        self._scripts = 0

    def measure(self, name: str, url: str, make_script: Callable[[], str]) -> wrk.Result:
        """Warm up, then measure; each run gets a script of its own (POST names must be new)."""
        self._scripts += 1
        warm_up = self.work / f"{self._scripts}-warm-up.lua"
        measured = self.work / f"{self._scripts}.lua"
        warm_up.write_text(make_script())
        measured.write_text(make_script())
        wrk.run(url, warm_up, wrk.WARM_UP_SECONDS)
        result = wrk.run(url, measured)
        repetitions = self.measured.wrk.setdefault(name, [])
        repetitions.append(result)
        errors = result.non_2xx_3xx + result.socket_errors
        print(
            f"  {name} [{len(repetitions)}]: {result.requests_per_second:.0f} req/s, "
            f"p99 {result.p99_ms:.2f} ms, {errors} errors",
            flush=True,
        )
        return result


def read_phase(
    bench: Bench, dsn: str, log_dir: Path, seeded: Seeded, service, baseline, repetitions: int
) -> None:
    configurations = list(seeded.etags)
    applications = [f"/api/v1/applications/{a}" for a in seeded.application_ids]
    baseline_paths = [path.removeprefix("/api/v1") for path in configurations]
    measured = bench.measured
    with ExitStack() as stack:
        uncached = stack.enter_context(
            servers.service("service-uncached", dsn, log_dir, read_cache_bytes=0)
        )
        no_watchdog = stack.enter_context(
            servers.service(
                "service-uncached-no-watchdog",
                dsn,
                log_dir,
                read_cache_bytes=0,
                db_call_watchdog="false",
            )
        )
        before = metrics.read(service.url)
        no_metrics = None
        if before is None:
            measured.skipped["metrics"] = (
                "the service has no GET /metrics, so METRICS_ENABLED changes nothing"
            )
        else:
            no_metrics = stack.enter_context(
                servers.service("service-no-metrics", dsn, log_dir, metrics_enabled="false")
            )
        two_workers = stack.enter_context(
            servers.service("service-2-workers", dsn, log_dir, workers=2)
        )
        constant = stack.enter_context(servers.floor("fastapi", log_dir))
        large = seed_large(service.url)
        # The compared servers back to back, round after round: a slow spell of the machine
        # then hits both sides of a ratio alike.
        for _ in range(repetitions):
            bench.measure(report.BASELINE, baseline.url, lambda: scripts.get_each(baseline_paths))
            get_configurations = lambda: scripts.get_each(configurations)  # noqa: E731
            bench.measure(report.GET_CONFIGURATION, service.url, get_configurations)
            gzip_accepted = get_each(configurations, GZIP)  # right after: the ratio is theirs
            bench.measure(report.GET_CONFIGURATION_GZIP, service.url, gzip_accepted)
            bench.measure(report.CONSTANT, constant.url, lambda: scripts.get_each(["/constant"]))
            bench.measure(report.GET_CONFIGURATION_UNCACHED, uncached.url, get_configurations)
            revisions = [f"{path}?revision=1" for path in configurations]
            bench.measure(report.GET_REVISION, service.url, lambda: scripts.get_each(revisions))
            bench.measure(report.NO_WATCHDOG_GET, no_watchdog.url, get_configurations)
            bench.measure(report.HEALTH, service.url, lambda: scripts.get_each(["/health/live"]))
            bench.measure(
                report.GET_APPLICATION, service.url, lambda: scripts.get_each(applications)
            )
            if no_metrics is not None:
                bench.measure(report.NO_METRICS, no_metrics.url, get_configurations)
            bench.measure(report.TWO_WORKERS, two_workers.url, get_configurations)
            measure_compression(bench, service.url, configurations, large)
        bench.measure(
            report.GET_APPLICATION_UNCACHED, uncached.url, lambda: scripts.get_each(applications)
        )
        list_applications = lambda: scripts.get_each(["/api/v1/applications"])  # noqa: E731
        bench.measure(report.LIST_APPLICATIONS, service.url, list_applications)
        bench.measure(
            report.CONDITIONAL_GET,
            service.url,
            lambda: scripts.revalidate_each(list(seeded.etags.items())),
        )
        before_counts = metrics.hits_and_misses(before)
        after_counts = metrics.hits_and_misses(metrics.read(service.url))
        if before_counts and after_counts:
            measured.hits_and_misses = (
                after_counts[0] - before_counts[0],
                after_counts[1] - before_counts[1],
            )
    # Shown to document why the service has its own supervisor (see README, Performance).
    with servers.plain_uvicorn("plain-uvicorn-2-workers", dsn, log_dir, workers=2) as plain:
        bench.measure(report.TWO_WORKERS_PLAIN, plain.url, lambda: scripts.get_each(configurations))


def seed_large(base_url: str) -> str:
    """A 1 MB configuration in an application of its own; its path."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        application = http.post("/api/v1/applications", json={"name": "bench-large"})
        application.raise_for_status()
        body = {"application_id": application.json()["id"], "name": "large"}
        created = http.post("/api/v1/configurations", json={**body, "config": large_config()})
        created.raise_for_status()
        return f"/api/v1/configurations/{created.json()['id']}"


def get_each(paths: list[str], headers: dict[str, str]) -> Callable[[], str]:
    return lambda: scripts.cycling([("GET", path, headers, None) for path in paths])


def measure_compression(bench: Bench, url: str, configurations: list[str], large: str) -> None:
    """The 1 MB configuration from memory with and without gzip accepted, back to back, and
    the bytes answers take on the wire."""
    bench.measure(report.GET_LARGE, url, get_each([large], {}))
    bench.measure(report.GET_LARGE_GZIP, url, get_each([large], GZIP))
    sizes = bench.measured.wire_bytes
    for name, path, headers in [
        (report.GET_CONFIGURATION, configurations[0], IDENTITY),
        (report.GET_CONFIGURATION_GZIP, configurations[0], GZIP),
        (report.GET_LARGE, large, IDENTITY),
        (report.GET_LARGE_GZIP, large, GZIP),
    ]:
        sizes[name], _ = wire_bytes(url, path, headers)


def write_phase(
    bench: Bench, dsn: str, log_dir: Path, seeded: Seeded, service, baseline, repetitions: int
) -> None:
    baseline_paths = [path.removeprefix("/api/v1") for path in seeded.etags]
    put_each = lambda: scripts.put_each(seeded.configurations)  # noqa: E731
    # Against the baseline with no other service up, as the release before revisions was
    # measured: every service LISTENs, so a second one spends CPU on each write's
    # notifications (8–10% of PUT req/s here, docs/performance.md).
    for _ in range(repetitions):
        bench.measure(
            report.BASELINE_WRITES, baseline.url, lambda: scripts.get_each(baseline_paths)
        )
        bench.measure(
            report.POST_CONFIGURATION,
            service.url,
            lambda: scripts.post_new_configurations(seeded.application_ids, CONFIG),
        )
        bench.measure(report.PUT_CONFIGURATION, service.url, put_each)
    # The call watchdog's cost: the same PUTs with and without it, each beside the other.
    with servers.service(
        "service-no-watchdog", dsn, log_dir, db_call_watchdog="false"
    ) as no_watchdog:
        for _ in range(repetitions):
            bench.measure(report.WATCHDOG_PUT, service.url, put_each)
            bench.measure(report.NO_WATCHDOG_PUT, no_watchdog.url, put_each)


def churn_phase(bench: Bench, dsn: str, log_dir: Path) -> None:
    started = time.monotonic()
    ids = seed_many(dsn, CHURN_CONFIGURATIONS)
    print(f"  seeded {len(ids):,} configurations in {time.monotonic() - started:.1f} s", flush=True)
    ids_file = bench.work / "churn-ids.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    script = bench.work / "churn.lua"
    script.write_text(scripts.get_random("/api/v1/configurations/", str(ids_file)))
    with servers.service(
        "service-churn", dsn, log_dir, read_cache_bytes=CHURN_CACHE_BYTES
    ) as service:
        wrk.run(service.url, script, wrk.WARM_UP_SECONDS)
        before = service.resident_kb()
        load = wrk.run(service.url, script, CHURN_SECONDS)
        after = service.resident_kb()
    bench.measured.churn = report.Churn(len(ids), CHURN_CACHE_BYTES, before, after, load)
    print(f"  churn: RSS {before / 1024:.1f} → {after / 1024:.1f} MiB", flush=True)


async def watch_phase(
    bench: Bench, dsn: str, log_dir: Path, seeded: Seeded, repetitions: int, held: int
) -> None:
    measured = bench.measured
    configuration = seeded.configurations[0]
    path = f"/api/v1/configurations/{configuration['id']}"
    others = [p for p in seeded.etags if p != path]
    with (
        servers.service("service-a", dsn, log_dir) as a,
        servers.service("service-b", dsn, log_dir) as b,
    ):
        reason = await watch.why_not_watching(b.port, path)
        if reason is None:
            measured.propagation = await watch.propagation(a.port, b.port, path, configuration)
            print(f"  propagation: {len(measured.propagation.delays_ms)} rounds", flush=True)
        else:
            measured.skipped["watch"] = reason
            print(f"  service watch skipped: {reason}", flush=True)

    def get_others(name: str, url: str) -> Callable[[], object]:
        return lambda: asyncio.to_thread(bench.measure, name, url, lambda: scripts.get_each(others))

    for number in range(repetitions):
        with servers.floor("fastapi", log_dir) as floor:
            result = await watch.floor_round(floor.port, floor.resident_kb, held)
        measured.floors.setdefault(report.FLOOR_FASTAPI, []).append(result)
        print(f"  {report.FLOOR_FASTAPI} [{number + 1}]: {_held_summary(result)}", flush=True)
        if reason is not None:
            continue
        # A fresh process each round: one that held 10,000 before keeps that memory.
        with servers.service(f"service-watch-{number + 1}", dsn, log_dir) as service:
            await get_others(report.NONE_HELD, service.url)()
            result = await watch.service_round(
                service.port,
                path,
                configuration,
                service.resident_kb,
                get_others(report.WHILE_HELD, service.url),
                held,
            )
        measured.watch.append(result)
        print(f"  service watch [{number + 1}]: {_held_summary(result)}", flush=True)
    with servers.floor("asgi", log_dir) as floor:
        result = await watch.floor_round(floor.port, floor.resident_kb, held)
    measured.floors[report.FLOOR_ASGI] = [result]
    print(f"  {report.FLOOR_ASGI}: {_held_summary(result)}", flush=True)


def _held_summary(result: report.HeldRound) -> str:
    return (
        f"{result.held:,}/{result.wanted:,} held, {result.kb_per_held:.1f} KiB each, "
        f"all answered in {result.answer_all_ms:.0f} ms, {result.errors} errors"
    )


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--repetitions", type=int, default=3, help="rounds of each targeted ratio (default 3)"
    )
    every = ",".join(PHASES)
    parser.add_argument("--only", default=every, help=f"comma-separated phases (default {every})")
    parser.add_argument(
        "--held", type=int, default=watch.HELD, help=f"held requests (default {watch.HELD:,})"
    )
    arguments = parser.parse_args(argv)
    arguments.phases = [phase.strip() for phase in arguments.only.split(",") if phase.strip()]
    unknown = set(arguments.phases) - set(PHASES)
    if unknown or arguments.repetitions < 1:
        parser.error(f"unknown phase(s) {sorted(unknown)}" if unknown else "repetitions ≥ 1")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    # SIGTERM (make or CI stopping us) unwinds like Ctrl-C: servers stopped, database dropped.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return _run(arguments)
    except KeyboardInterrupt:
        print("\nbench: interrupted; its servers are stopped and its database dropped")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(arguments: argparse.Namespace) -> int:
    open_files = rawhttp.raise_open_files_limit()  # the servers we start inherit it
    RESULTS_DIR.mkdir(exist_ok=True)
    settings = get_settings()
    measured = Measurements()
    for phase in set(PHASES) - set(arguments.phases):
        measured.skipped[phase] = f"not run (--only {arguments.only})"
    # Each held request is a socket here and one in the server (which inherits this limit).
    for holding in ("watch", "applications"):
        if holding in arguments.phases and open_files < arguments.held + 1000:
            measured.skipped[holding] = (
                f"RLIMIT_NOFILE's hard limit ({open_files}) is too low for {arguments.held:,} held"
            )
            print(f"{holding} skipped: {measured.skipped[holding]}", flush=True)
            arguments.phases.remove(holding)
    print(
        f"bench: fresh database on the DATABASE_URL server; wrk -t{wrk.THREADS} "
        f"-c{wrk.CONNECTIONS}, {wrk.WARM_UP_SECONDS} s warm-up + {wrk.MEASURE_SECONDS} s, "
        f"{arguments.repetitions} rounds per targeted ratio; logs in {RESULTS_DIR}",
        flush=True,
    )
    started = time.monotonic()
    with bench_database(settings.dsn) as dsn, tempfile.TemporaryDirectory() as work:
        bench = Bench(Path(work), measured)
        with ExitStack() as stack:
            service = stack.enter_context(servers.service("service", dsn, RESULTS_DIR))
            baseline = stack.enter_context(
                servers.baseline(dsn, RESULTS_DIR, settings.db_pool_size)
            )
            with httpx.Client(base_url=service.url, timeout=30) as http:
                seeded = seed(http)
            if "read" in arguments.phases:
                print("read", flush=True)
                read_phase(
                    bench, dsn, RESULTS_DIR, seeded, service, baseline, arguments.repetitions
                )
            if "write" in arguments.phases:
                print("write", flush=True)
                write_phase(
                    bench, dsn, RESULTS_DIR, seeded, service, baseline, arguments.repetitions
                )
            if "access" in arguments.phases:
                print("access", flush=True)
                access.access_phase(bench, dsn, RESULTS_DIR, seeded, arguments.repetitions)
            if "schemas" in arguments.phases:
                print("schemas", flush=True)
                schemas.schemas_phase(bench, service, arguments.repetitions)
            if "applications" in arguments.phases:
                print("applications", flush=True)
                whole = applications.read_rounds(
                    bench, list(seeded.etags), service, arguments.repetitions
                )
        if "churn" in arguments.phases:
            print("churn", flush=True)
            churn_phase(bench, dsn, RESULTS_DIR)
        if "watch" in arguments.phases:
            print("watch", flush=True)
            phase = watch_phase(
                bench, dsn, RESULTS_DIR, seeded, arguments.repetitions, arguments.held
            )
            asyncio.run(phase)
        if "applications" in arguments.phases:  # with no other service up, as the watch phase
            rounds = applications.watch_rounds(
                measured, dsn, RESULTS_DIR, whole, arguments.repetitions, arguments.held
            )
            asyncio.run(rounds)
        if "faults" in arguments.phases:
            print("faults", flush=True)
            measured.frozen = faults.frozen_round(dsn, RESULTS_DIR, seeded.configurations[0])
            print(f"  stalled: slowest answer {measured.frozen.slowest:.2f} s", flush=True)
            measured.watchdog_ratios = watchdog_cost.watchdog_ratios(
                settings.model_copy(update={"database_url": dsn})
            )
            print(f"  watchdog: {watchdog_cost.describe(measured.watchdog_ratios)}", flush=True)
        if "soak" in arguments.phases:
            print("soak", flush=True)
            measured.soak = soak.run_soak(dsn, RESULTS_DIR, seeded.configurations[-5:])
            print(f"  {soak.summary(measured.soak)}", flush=True)
    outcomes = report.targets(measured)
    print(f"\nbench: {(time.monotonic() - started) / 60:.1f} minutes\n")
    print(report.table(measured))
    print()
    print(report.verdict_lines(outcomes))
    return 1 if report.failed(outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`'s applications phase (issue 30): an application read whole, and watched whole.

read   GET /applications/{id}?include=configurations (10 configurations, ~4 KB) from memory,
       against GET configuration from memory on the same 1-worker service, round after round.
watch  10,000 watches of one application read whole, woken by one PUT of one of its
       configurations, against the FastAPI floor holding as many (each round in fresh
       processes, as the watch phase does for a configuration).
"""

from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import report, scripts, servers, watch
from bench.floor import padded
from bench.report import HeldRound

APPLICATIONS = 10  # read in turn, as the read phase reads many configurations
CONFIGURATIONS = 10
# About 280 bytes of JSON: with its other members a configuration's representation is ~420
# bytes, so an application of 10 read whole is ~4 KB.
SMALL_CONFIG = {
    "database": {"host": "db.internal", "port": 5432, "pool": 10},
    "features": {f"flag_{n}": n % 2 == 0 for n in range(6)},
    "limits": {"requests_per_minute": 6000, "timeout_ms": 2500},
    "description": "x" * 20,
}


@dataclass(frozen=True)
class Applications:
    paths: list[str]  # each application's path with ?include=configurations
    configuration: dict  # one configuration of the first, as POST answered it
    body_bytes: int  # the size of the first one read whole


def whole(application_id: str) -> str:
    return f"/api/v1/applications/{application_id}?include=configurations"


def seed_applications(http: httpx.Client) -> Applications:
    """APPLICATIONS applications of CONFIGURATIONS small configurations each, through the API."""
    paths, configurations = [], []
    for a in range(APPLICATIONS):
        response = http.post("/api/v1/applications", json={"name": f"bench-whole-{a}"})
        response.raise_for_status()
        application_id = response.json()["id"]
        paths.append(whole(application_id))
        for c in range(CONFIGURATIONS):
            body = {"application_id": application_id, "name": f"c{c}", "config": SMALL_CONFIG}
            response = http.post("/api/v1/configurations", json=body)
            response.raise_for_status()
            configurations.append(response.json())
    first = http.get(paths[0])
    first.raise_for_status()
    return Applications(paths, configurations[0], len(first.content))


def read_rounds(bench, configuration_paths: list[str], service, repetitions: int) -> Applications:
    """Seed through `service` (the bench's 1-worker service), then measure an application read
    whole against `configuration_paths` (the read phase's), round after round."""
    with httpx.Client(base_url=service.url, timeout=30) as http:
        seeded = seed_applications(http)
    print(f"  an application read whole: {seeded.body_bytes:,} bytes", flush=True)
    for _ in range(repetitions):
        bench.measure(
            report.BESIDE_WHOLE, service.url, lambda: scripts.get_each(configuration_paths)
        )
        bench.measure(
            report.GET_APPLICATION_WHOLE, service.url, lambda: scripts.get_each(seeded.paths)
        )
    return seeded


async def watch_rounds(
    measured: report.Measurements,
    dsn: str,
    log_dir: Path,
    seeded: Applications,
    repetitions: int,
    held: int,
) -> None:
    """Each round: the floor holds `held` and is released, then a fresh service holds as many
    watches of the first application read whole and one PUT of its first configuration
    wakes them (with the database reads the wake cost)."""
    configuration = seeded.configuration
    path = f"/api/v1/configurations/{configuration['id']}"
    for number in range(repetitions):
        # The floor answers as many bytes as the service does: what is compared is the
        # service's cost of a wake, not the size of what both must send.
        with servers.floor("fastapi", log_dir, body_bytes=seeded.body_bytes) as floor:
            body = padded(seeded.body_bytes)
            result = await watch.floor_round(floor.port, floor.resident_kb, held, body)
        measured.floors.setdefault(report.FLOOR_BESIDE_APPLICATIONS, []).append(result)
        print(f"  {report.FLOOR_BESIDE_APPLICATIONS} [{number + 1}]: {summary(result)}", flush=True)
        with servers.service(f"service-application-watch-{number + 1}", dsn, log_dir) as service:
            result = await watch.service_round(
                service.port,
                path,
                configuration,
                service.resident_kb,
                count=held,
                watched=seeded.paths[0],
            )
        measured.application_watch.append(result)
        print(f"  application watch [{number + 1}]: {summary(result)}", flush=True)


def summary(result: HeldRound) -> str:
    return (
        f"{result.held:,}/{result.wanted:,} held, {result.kb_per_held:.1f} KiB each, "
        f"all answered in {result.answer_all_ms:.0f} ms, {result.errors} errors, "
        f"{result.stale} stale, {result.db_reads} DB reads"
    )

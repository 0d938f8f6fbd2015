"""What the call watchdog costs a database call, without HTTP around it to hide it.

Two Databases on the same PostgreSQL, DB_CALL_WATCHDOG=true and false, each running CALLS
reads (`SELECT 1`) and writes (an UPDATE of nothing, committed), CONCURRENT at a time, round
after round interleaved; the ratio of their call rates, per round. A call through HTTP costs
several times more than this bare one, so its share there is smaller still.
"""

import asyncio
import time
from statistics import median

from config_service.settings import Settings
from config_service.store.database import Database, build_database
from config_service.telemetry.ignored import ignored_metrics

CALLS = 2000
CONCURRENT = 8
ROUNDS = 7


async def _rate(database: Database, write: bool) -> float:
    def select(cursor):
        cursor.execute("SELECT 1")

    def update(cursor):
        cursor.execute("UPDATE applications SET comments = comments WHERE false")

    work = update if write else select
    run = database.write if write else database.read
    per_task = CALLS // CONCURRENT

    async def calls():
        for _ in range(per_task):
            await run(work)

    started = time.perf_counter()
    await asyncio.gather(*(calls() for _ in range(CONCURRENT)))
    return per_task * CONCURRENT / (time.perf_counter() - started)


async def _ratios(settings: Settings, write: bool, rounds: int) -> list[float]:
    on = build_database(settings.model_copy(update={"db_call_watchdog": True}), ignored_metrics())
    off = build_database(settings.model_copy(update={"db_call_watchdog": False}), ignored_metrics())
    try:
        await _rate(on, write)  # warm up: connections made
        await _rate(off, write)
        ratios = []
        for number in range(rounds):
            # Alternate which goes first, so a drift of the machine hits both alike.
            if number % 2:
                with_watchdog, without = await _rate(on, write), await _rate(off, write)
            else:
                without, with_watchdog = await _rate(off, write), await _rate(on, write)
            ratios.append(with_watchdog / without)
        return ratios
    finally:
        on.close()
        off.close()


def watchdog_ratios(settings: Settings, rounds: int = ROUNDS) -> dict[str, list[float]]:
    """Calls per second with the watchdog over without, per round, for reads and writes."""
    return {
        kind: asyncio.run(_ratios(settings, kind == "write", rounds)) for kind in ("read", "write")
    }


def describe(ratios: dict[str, list[float]]) -> str:
    return ", ".join(
        f"{kind} {median(values):.3f}× ({min(values):.3f}–{max(values):.3f})"
        for kind, values in ratios.items()
    )

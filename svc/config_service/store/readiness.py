"""A worker's database calls wait for this build's schema: applied now, or once PostgreSQL answers.

The service starts while PostgreSQL is unreachable (an orchestrator sees /health/live 200 and
/health/ready 503): until the database exists and every migration is applied, each call is
answered 503 with `Retry-After`, saying why. In the background the worker tries again every
RETRY_INTERVAL seconds, and logs the two transitions once each (unreachable, then serving).
Several workers may try at once: migrations take an advisory lock, so each is applied once.
Only workers whose start-up did not migrate do this (process/preflight.py says when).
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg2

from config_service.settings import Settings
from config_service.store.database import Database
from config_service.store.migration_files import MigrationError
from config_service.store.migrations import migrate

log = logging.getLogger(__name__)

RETRY_INTERVAL = 0.5
NOT_REACHED = (
    "PostgreSQL has not answered since this worker started; the database will be migrated and"
    " served as soon as it does."
)


@asynccontextmanager
async def schema_ready(settings: Settings, database: Database) -> AsyncIterator[None]:
    """Keep `database` closed to calls until its schema is this build's, for the block."""
    database.not_ready = NOT_REACHED
    retrying = None
    if not await _attempt(settings, database, first=True):
        retrying = asyncio.get_running_loop().create_task(_retry(settings, database))
    try:
        yield
    finally:
        if retrying is not None:
            retrying.cancel()
            await asyncio.gather(retrying, return_exceptions=True)


async def _retry(settings: Settings, database: Database) -> None:
    while True:
        await asyncio.sleep(RETRY_INTERVAL)
        if await _attempt(settings, database, first=False):
            return


async def _attempt(settings: Settings, database: Database, *, first: bool) -> bool:
    """One try; True when it is settled (migrated, or a migration that cannot be applied)."""
    try:
        migrated = await asyncio.to_thread(migrate, settings)
    except psycopg2.OperationalError as error:
        if first:
            log.warning(
                f"PostgreSQL cannot be reached ({str(error).strip()}): answering 503 and"
                f" trying again every {RETRY_INTERVAL} s"
            )
        return False
    except MigrationError as error:
        database.not_ready = str(error)
        log.error(f"cannot serve this database: {error}")
        return True
    for level, line in migrated.lines():
        log.log(level, line)
    database.not_ready = None
    if not first:
        log.info("PostgreSQL answers: the database is migrated, serving")
    return True

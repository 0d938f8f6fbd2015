"""The rollout schedule (`Config-Rollout: p;step=s;every=t`, docs/rollouts.md): every worker
of every instance asks PostgreSQL a few times a second to take the steps that are due.

No leader to configure: PostgreSQL hands each due step to exactly one caller (FOR UPDATE
SKIP LOCKED, store/migrations/functions/configuration_rollout_steps.sql), and the schedule
lives in its tables, so it survives restarts of every instance. A step's change reaches
every worker's read model through the rollout table's NOTIFY, like any change.
"""

import asyncio
import logging
import random
from dataclasses import dataclass

from config_service.bus import HandlerTable, MessageBus
from config_service.errors import DomainError
from config_service.messages import NO_DELIVERY, Command, Delivery, Query
from config_service.store.database import Cursor
from config_service.telemetry.catalogue import ServiceMetrics

log = logging.getLogger(__name__)

# How often each worker asks: a step falls due within this of its time (every >= 1 s). One
# indexed lookup of the due rollouts (migration 0015's partial index) per worker per tick.
TICK_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class Step:
    configuration_id: str
    revision: int
    percent: int  # 100: promoted


@dataclass(frozen=True, slots=True)
class TakeDueSteps(Command[list[Step]]):
    """Raise every rollout whose step is due; promote those that reach 100%."""

    def idempotent(self) -> bool:
        return True  # one statement: sent again, it finds those steps taken (not due)


TAKE_DUE_STEPS = "SELECT configuration_id, revision, percent FROM configuration_rollout_steps()"


@dataclass(frozen=True, slots=True)
class CountRunningRollouts(Query[int]):
    """How many rollouts run, over the fleet (for the metrics)."""


COUNT_RUNNING = "SELECT count(*) AS running FROM configuration_rollouts WHERE state = 'running'"
# Every this many ticks (about 5 s) a worker counts the running rollouts for its gauge.
COUNT_EVERY_TICKS = 20


def count_running_rollouts(
    cursor: Cursor, query: CountRunningRollouts, delivery: Delivery = NO_DELIVERY
) -> int:
    cursor.execute(COUNT_RUNNING)
    return cursor.fetchone()["running"]


def take_due_steps(
    cursor: Cursor, command: TakeDueSteps, delivery: Delivery = NO_DELIVERY
) -> list[Step]:
    """The steps this call took (others' are theirs)."""
    cursor.execute(TAKE_DUE_STEPS)
    return [Step(row["configuration_id"], row["revision"], row["percent"]) for row in cursor]


async def advance_rollouts(bus: MessageBus, metrics: ServiceMetrics) -> list[Step]:
    """Take the due steps once; count and log each (the log says which instance took it)."""
    steps = await bus.dispatch(TakeDueSteps())
    for step in steps:
        metrics.rollout_steps.inc()
        if step.percent == 100:
            metrics.rollout_changes.inc("promoted")
        log.info(
            "rollout step",
            extra={"fields": {"configuration_id": step.configuration_id,
                              "revision": step.revision, "rollout": step.percent}},
        )  # fmt: skip
    return steps


async def advance_rollouts_forever(bus: MessageBus, metrics: ServiceMetrics) -> None:
    """Every TICK_SECONDS (jittered, so that workers started together spread out), until
    cancelled; an unreachable database only delays the steps."""
    ticks = 0
    while True:
        await asyncio.sleep(TICK_SECONDS * (0.5 + random.random()))
        ticks += 1
        try:
            await advance_rollouts(bus, metrics)
            if ticks % COUNT_EVERY_TICKS == 1:  # the first tick, then every 20th
                metrics.rollouts_running.set(value=await bus.dispatch(CountRunningRollouts()))
        except DomainError as error:  # unreachable: the next tick tries again
            log.debug(f"rollout steps not taken: {error}")
        except Exception:
            log.exception("taking rollout steps failed")


COMMAND_HANDLERS: HandlerTable = {TakeDueSteps: take_due_steps}
QUERY_HANDLERS: HandlerTable = {CountRunningRollouts: count_running_rollouts}

"""The schedule's SQL against the real PostgreSQL: each due step taken once however many
callers race, a late step taken once with the next a full interval later, and 100% promotes."""

from concurrent.futures import ThreadPoolExecutor

import psycopg2
import psycopg2.extras
import pytest

from config_service.configurations.commands import CreateConfiguration
from config_service.configurations.rollouts import RollOutConfiguration, RolloutSpec
from config_service.configurations.schedule import (
    CountRunningRollouts,
    TakeDueSteps,
    count_running_rollouts,
    take_due_steps,
)
from config_service.main import COMMAND_HANDLERS
from test.random_refs import random_name


@pytest.fixture
def database_url(migrated_database):
    """A database of this module's tests' own: the session's apps run the rollout schedule on
    the run's database, and these rollouts' steps are taken by these tests alone."""
    return migrated_database


def connect(database_url):
    connection = psycopg2.connect(database_url, cursor_factory=psycopg2.extras.RealDictCursor)
    connection.autocommit = True
    return connection


@pytest.fixture
def scheduled(database_url, application_id):
    """A configuration whose candidate runs at 10% with step=20;every=60, its step due 10
    minutes ago (every instance was down)."""
    with connect(database_url) as connection, connection.cursor() as cursor:
        created = COMMAND_HANDLERS[CreateConfiguration](
            cursor,
            CreateConfiguration(
                application_id=application_id, name=random_name(), comments="", config={"v": 0}
            ),
        ).representation
        fields = {"id": created.id, "name": "n", "comments": "", "config": {"v": 1}}
        rollout = RolloutSpec(10, step=20, every=60)
        COMMAND_HANDLERS[RollOutConfiguration](
            cursor, RollOutConfiguration(**fields, rollout=rollout)
        )
        cursor.execute(
            "UPDATE configuration_rollouts SET next_step_at = now() - interval '10 minutes'"
            " WHERE configuration_id = %s",
            (created.id,),
        )
    return created.id


def rollout_of(database_url, configuration_id) -> dict:
    with connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT percent, state, ended_by, next_step_at - now() AS until_next"
            " FROM configuration_rollouts WHERE configuration_id = %s",
            (configuration_id,),
        )
        return cursor.fetchone()


def steps_taken(database_url, configuration_id) -> int:
    with connect(database_url) as connection, connection.cursor() as cursor:
        steps = take_due_steps(cursor, TakeDueSteps())
    return sum(step.configuration_id == configuration_id for step in steps)


def test_a_late_step_is_taken_once_by_racing_callers_and_the_next_is_a_full_interval_later(
    database_url, scheduled
):
    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(lambda _: steps_taken(database_url, scheduled), range(16)))
    assert sum(taken) == 1
    after = rollout_of(database_url, scheduled)
    assert after["percent"] == 30 and after["state"] == "running"
    assert 55 <= after["until_next"].total_seconds() <= 60


def test_the_step_that_reaches_100_promotes_the_candidate(database_url, scheduled):
    with connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "UPDATE configuration_rollouts SET percent = 95 WHERE configuration_id = %s",
            (scheduled,),
        )
    assert steps_taken(database_url, scheduled) == 1
    after = rollout_of(database_url, scheduled)
    assert (after["percent"], after["state"], after["ended_by"]) == (100, "promoted", "automatic")
    with connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT config, configuration_current_revision(id) AS revision"
            " FROM configurations WHERE id = %s",
            (scheduled,),
        )
        assert cursor.fetchone() == {"config": {"v": 1}, "revision": 2}


def test_a_promotion_the_schedule_cannot_make_pauses_it_and_the_others_step_on(
    database_url, application_id, scheduled
):
    """The candidate's name ("n") taken meanwhile: its last step pauses the schedule instead
    of failing every call (and so every other rollout's steps)."""
    with connect(database_url) as connection, connection.cursor() as cursor:
        COMMAND_HANDLERS[CreateConfiguration](
            cursor,
            CreateConfiguration(application_id=application_id, name="n", comments="", config={}),
        )
        cursor.execute(
            "UPDATE configuration_rollouts SET percent = 95 WHERE configuration_id = %s",
            (scheduled,),
        )
    assert steps_taken(database_url, scheduled) == 0
    after = rollout_of(database_url, scheduled)
    assert (after["percent"], after["state"], after["until_next"]) == (95, "running", None)


def test_the_running_rollouts_are_counted(database_url, scheduled):
    def running() -> int:
        with connect(database_url) as connection, connection.cursor() as cursor:
            return count_running_rollouts(cursor, CountRunningRollouts())

    before = running()
    assert before >= 1
    with connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "UPDATE configuration_rollouts SET state = 'aborted' WHERE configuration_id = %s",
            (scheduled,),
        )
    assert running() == before - 1

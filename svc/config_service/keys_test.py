"""What each command's touches() says against what the triggers NOTIFY when it commits.

Each command runs through its handler against the real PostgreSQL and commits; a second
connection LISTENs and collects every key announced, up to a sentinel sent after the commit
(one session's notifications arrive in commit order).
"""

import select
import time

import psycopg2
import psycopg2.extensions
import psycopg2.extras
import pytest

from config_service import keys, main
from config_service.applications.commands import CreateApplication, UpdateApplication
from config_service.configurations.commands import CreateConfiguration, UpdateConfiguration
from config_service.configurations.rejections import RejectCandidate
from config_service.configurations.rollouts import RollOutConfiguration, RolloutSpec
from config_service.configurations.schedule import TakeDueSteps
from config_service.messages import Command
from test.random_refs import random_name

CHANNEL = "representation_changed"
COMMAND_HANDLERS = main.COMMAND_HANDLERS
SENTINEL = "sentinel"


@pytest.fixture
def connections(database_url):
    listening = psycopg2.connect(database_url)
    listening.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    listening.cursor().execute(f"LISTEN {CHANNEL}")
    writing = psycopg2.connect(database_url, cursor_factory=psycopg2.extras.RealDictCursor)
    yield listening, writing
    listening.close()
    writing.close()


def commit(connections, command: Command):
    """Run the command's handler and commit; return its result and the keys announced."""
    listening, writing = connections
    with writing, writing.cursor() as cursor:
        result = COMMAND_HANDLERS[type(command)](cursor, command)
        result = getattr(result, "representation", result)  # a configuration's is Written
    with writing, writing.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, SENTINEL))
    announced: set[str] = set()
    deadline = time.monotonic() + 5
    while SENTINEL not in announced:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no sentinel within 5 s; heard {announced}"
        select.select([listening], [], [], remaining)
        listening.poll()
        announced |= {notification.payload for notification in listening.notifies}
        listening.notifies.clear()
    return result, announced - {SENTINEL}


def test_every_command_announces_exactly_what_it_touches_and_what_it_creates(connections):
    checked = set()

    def check(command: Command, created_key=None, unchanged=()):
        """`unchanged`: keys the triggers announce although the change leaves them as they
        were (a trigger does not compare representations)."""
        result, announced = commit(connections, command)
        created = {created_key(result.id)} if created_key else set()
        expected = set(command.touches()) | created | set(unchanged)
        assert announced == expected, type(command).__name__
        checked.add(type(command))
        return result

    application = check(CreateApplication(name=random_name(), comments=""), keys.application)
    check(UpdateApplication(id=application.id, name=random_name(), comments="x"))
    configuration = check(
        CreateConfiguration(application_id=application.id, name="c", comments="", config={"v": 1}),
        keys.configuration,
    )
    # The configuration trigger also names the application, whose id list stays the same.
    check(
        UpdateConfiguration(id=configuration.id, name="d", comments="", config={"v": 2}),
        unchanged=[keys.application(application.id)],
    )
    # A rename names its configurations too (their scope follows the name); keeping the name
    # does not.
    renamed = UpdateApplication(id=application.id, name=random_name(), comments="x")
    check(renamed, unchanged=keys.application_renamed([configuration.id]))
    check(UpdateApplication(id=application.id, name=renamed.name, comments="y"))
    # A rollout changes what the configuration's URL answers (its rollout trigger); its
    # promotion writes the row, whose trigger also names the application.
    candidate = {"id": configuration.id, "name": "d", "comments": "", "config": {"v": 3}}
    check(RollOutConfiguration(**candidate, rollout=RolloutSpec(10)))
    promote = RollOutConfiguration(**candidate, rollout=RolloutSpec(100))
    check(promote, unchanged=[keys.application(application.id)])
    # A rejection that reaches max-failures aborts the rollout: its representation changes.
    candidate = {**candidate, "config": {"v": 4}}
    started = check(RollOutConfiguration(**candidate, rollout=RolloutSpec(10, max_failures=1)))
    check(RejectCandidate(configuration.id, started.revision, "k"))
    # The schedule's steps touch rollouts nobody names in advance: the rollout trigger
    # announces each (test/rollouts_schedule_test.py shows reads and watches follow them).
    checked.add(TakeDueSteps)
    assert checked == set(COMMAND_HANDLERS)


def test_a_key_names_its_kind_and_id():
    assert keys.application("A") == "application:A" != keys.configuration("A")

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
from ulid import ULID

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
    return committed(connections, lambda cursor: COMMAND_HANDLERS[type(command)](cursor, command))


def committed(connections, write):
    """Run `write(cursor)` in a transaction and commit; return its result and the keys
    announced."""
    listening, writing = connections
    with writing, writing.cursor() as cursor:
        result = write(cursor)
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
        written, announced = commit(connections, command)
        result = getattr(written, "representation", written)  # a configuration's is Written
        created = {created_key(result.id)} if created_key else set()
        expected = set(command.touched(written)) | created | set(unchanged)
        assert announced == expected, type(command).__name__
        checked.add(type(command))
        return result

    application = check(CreateApplication(name=random_name(), comments=""), keys.application)
    check(UpdateApplication(id=application.id, name=random_name(), comments="x"))
    configuration = check(
        CreateConfiguration(application_id=application.id, name="c", comments="", config={"v": 1}),
        keys.configuration,
    )
    # The configuration trigger also names the application: its id list stays the same, but
    # the application with its configurations (a view of that key) changes.
    check(UpdateConfiguration(id=configuration.id, name="d", comments="", config={"v": 2}))
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
    check(promote)
    # A rejection that reaches max-failures aborts the rollout: its representation changes.
    candidate = {**candidate, "config": {"v": 4}}
    started = check(RollOutConfiguration(**candidate, rollout=RolloutSpec(10, max_failures=1)))
    check(RejectCandidate(configuration.id, started.revision, "k"))
    # The schedule's steps touch rollouts nobody names in advance: the rollout trigger
    # announces each (test/rollouts_http_test.py and test/rollouts_fleet_test.py show reads follow them).
    checked.add(TakeDueSteps)
    assert checked == set(COMMAND_HANDLERS)


# Changes an application with its configurations sees, made in SQL as psql would: each must
# announce the application's key, which stands for that view (keys.views_of).
CHANGES_OF_AN_APPLICATION = [
    "UPDATE applications SET comments = 'by hand' WHERE id = %(application)s",
    "UPDATE applications SET name = %(name)s WHERE id = %(application)s",
    "INSERT INTO configurations (id, application_id, name) VALUES (%(new)s, %(application)s, 'n')",
    "UPDATE configurations SET config = '{\"v\": 3}' WHERE id = %(configuration)s",
    "UPDATE configurations SET name = 'renamed' WHERE id = %(configuration)s",
    "UPDATE configurations SET comments = 'by hand' WHERE id = %(configuration)s",
    "DELETE FROM configurations WHERE id = %(configuration)s",
]


@pytest.mark.parametrize("statement", CHANGES_OF_AN_APPLICATION)
def test_every_change_of_an_application_or_its_configurations_names_the_application(
    connections, statement
):
    application = commit(connections, CreateApplication(name=random_name(), comments=""))[0]
    created = CreateConfiguration(application.id, name="c", comments="", config={"v": 1})
    configuration = commit(connections, created)[0].representation
    ids = {
        "application": application.id,
        "configuration": configuration.id,
        "new": str(ULID()),
        "name": random_name(),
    }

    _, announced = committed(connections, lambda cursor: cursor.execute(statement, ids))

    view = keys.application_configurations(application.id)
    assert keys.application(application.id) in announced
    assert view in {derived for key in announced for derived in keys.views_of(key)}


def test_a_key_names_its_kind_and_id():
    assert keys.application("A") == "application:A" != keys.configuration("A")
    assert keys.application_configurations("A") == "application+configurations:A"


def test_a_view_names_the_resource_it_is_of_and_stands_for_its_key():
    assert keys.resource_of(keys.application_configurations("A")) == ("application", "A")
    assert keys.resource_of(keys.configuration("C")) == ("configuration", "C")
    assert keys.views_of(keys.application("A")) == (keys.application_configurations("A"),)
    assert keys.views_of(keys.configuration("C")) == ()
    assert keys.views_of(keys.EVERYTHING) == ()

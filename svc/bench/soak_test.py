import psycopg2
from ulid import ULID

from bench import soak
from bench.soak import Answer, Soak
from test.random_refs import random_name


def test_answers_are_held_to_their_bounds_and_only_503_is_an_acceptable_5xx():
    answers = [
        Answer("read", 200, 0.01),
        Answer("write", 503, soak.CALL_BOUND),
        Answer("held", 304, soak.HELD_BOUND),
        Answer("held", 200, soak.HELD_BOUND + soak.SLACK + 0.1),  # overdue
        Answer("post", 500, 0.1),
        Answer("read", 0, 0.1),  # no answer
    ]
    measured = Soak(answers=answers, recovery={"PostgreSQL stopped": 0.4})
    assert (measured.bad_statuses, measured.overdue) == (2, 1)
    assert (measured.count("held"), measured.count("read", 200)) == (2, 1)
    assert "2 held" in soak.summary(measured) and "PostgreSQL stopped 0.4 s" in soak.summary(
        measured
    )


def test_faults_are_applied_in_order_and_kill_only_this_services_connections(proxy):
    names = [name for name, _, _ in soak.faults(proxy, "postgresql://unused")]
    assert names == [
        "PostgreSQL stopped",
        "PostgreSQL frozen",
        "backends killed",
        "listener killed",
    ]


def test_a_write_is_lost_when_postgresql_has_less_than_was_acknowledged(database_url):
    application_id, configuration_id, name = str(ULID()), str(ULID()), random_name("soak")
    connection = psycopg2.connect(database_url)
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO applications (id, name) VALUES (%s, %s)", (application_id, name)
        )
        cursor.execute(
            "INSERT INTO configurations (id, application_id, name, config)"
            " VALUES (%s, %s, 'c', '{\"v\": 3}')",
            (configuration_id, application_id),
        )
    connection.close()
    assert (
        soak.lost_writes(database_url, {configuration_id: 3}, {configuration_id: 4}, [name]) == []
    )
    lost = soak.lost_writes(database_url, {configuration_id: 4}, {configuration_id: 4}, ["gone"])
    assert lost == [
        f"configuration {configuration_id}: v4 acknowledged, v3 stored",
        "application gone: 0 rows",
    ]

"""Revisions as PostgreSQL records them and trims them to REVISIONS_KEEP, whoever writes
(store/migrations/functions/record_configuration_revision.sql).

Each step commits on its own connection, as requests do, so what is seen is what committed.
"""

import json

import psycopg2
import psycopg2.extras

from config_service.configurations.commands import UpdateConfiguration, update_configuration
from config_service.configurations.revisions import author_parameters
from config_service.messages import NO_DELIVERY
from config_service.representation import etag_of
from config_service.store.migration_files import discover
from config_service.store.migrations import apply_migrations
from test.migration_files import files_of, write_files
from test.postgres import execute, rows
from test.revisions import by, create, current, keeping, put, revisions
from test.waiting import until


def test_create_put_noop_put_and_psql_update_record_1_2_2_3_with_their_authors(
    database_url, application_id
):
    created = create(database_url, application_id, author=by("req-1", "ci"))
    assert (created.recorded, created.representation.revision) == (True, 1)
    put_ = put(database_url, created.representation.id, {"v": 1}, by("req-2", None))
    assert (put_.recorded, put_.representation.revision) == (True, 2)
    noop = put(database_url, created.representation.id, {"v": 1}, by("req-3", "ci"))
    assert (noop.recorded, noop.representation.revision) == (False, 2)
    assert noop.representation.etag == put_.representation.etag
    execute(
        database_url,
        "UPDATE configurations SET comments = 'by hand' WHERE id = %s",
        (created.representation.id,),
    )

    recorded = revisions(database_url, created.representation.id)
    [role] = rows(database_url, "SELECT current_user AS name")
    assert [r["revision"] for r in recorded] == [1, 2, 3]
    assert [(r["changed_by"], r["request_id"]) for r in recorded] == [
        ("ci", "req-1"),
        (None, "req-2"),
        (f"db:{role['name']}", None),
    ]
    # Each revision's bytes are what a GET returned while it was current, so is its ETag.
    assert recorded[0]["body"].encode() == created.representation.body
    assert recorded[1]["body"].encode() == put_.representation.body
    now = current(database_url, created.representation.id)
    assert (now.revision, now.body) == (3, recorded[2]["body"].encode())
    assert json.loads(now.body)["comments"] == "by hand"
    assert recorded[0]["changed_at"] < recorded[1]["changed_at"] < recorded[2]["changed_at"]
    assert recorded[0]["changed_at"].utcoffset() is not None


def test_a_change_that_renders_differently_is_a_revision_even_when_jsonb_calls_it_equal(
    database_url, application_id
):
    created = create(database_url, application_id, config={"n": 1})
    changed = put(database_url, created.representation.id, {"n": 1.0})
    assert changed.recorded and json.loads(changed.representation.body)["config"] == {"n": 1.0}
    assert b'"n": 1.0' in changed.representation.body


def test_an_update_in_sql_that_changes_nothing_records_nothing(database_url, application_id):
    created = create(database_url, application_id)
    execute(
        database_url,
        "UPDATE configurations SET comments = comments WHERE id = %s",
        (created.representation.id,),
    )
    assert [r["revision"] for r in revisions(database_url, created.representation.id)] == [1]


def test_a_put_that_changes_nothing_does_not_update_so_nothing_is_notified(
    database_url, application_id
):
    created = create(database_url, application_id, config={"v": 1})
    listener = psycopg2.connect(database_url)
    try:
        listener.autocommit = True
        listener.cursor().execute("LISTEN representation_changed")
        key = f"configuration:{created.representation.id}"
        put(database_url, created.representation.id, {"v": 1}, name=json_name(created))
        put(database_url, created.representation.id, {"v": 2}, name=json_name(created))

        execute(database_url, "NOTIFY representation_changed, 'end'")

        def heard_the_end() -> bool:
            listener.poll()
            return "end" in {n.payload for n in listener.notifies}

        until(heard_the_end)  # delivered in commit order: everything before it has arrived
        assert [n.payload for n in listener.notifies if n.payload == key] == [key]
    finally:
        listener.close()


def json_name(written) -> str:
    return json.loads(written.representation.body)["name"]


def test_the_author_settings_end_with_their_transaction(database_url, application_id):
    """Transaction-local: the next transaction on the connection (through PgBouncer, maybe
    another client's) is not recorded as the API's author."""
    created = create(database_url, application_id)
    connection = psycopg2.connect(database_url, cursor_factory=psycopg2.extras.RealDictCursor)
    try:
        with connection.cursor() as cursor:
            update_configuration(
                cursor,
                UpdateConfiguration(id=created.representation.id, name="a", comments="", config={}),
                by("req-a", "ci"),
            )
            connection.commit()
            cursor.execute(
                "UPDATE configurations SET comments = 'later' WHERE id = %s",
                (created.representation.id,),
            )
            connection.commit()
    finally:
        connection.close()
    authors = [r["changed_by"] for r in revisions(database_url, created.representation.id)]
    assert authors[1] == "ci" and authors[2].startswith("db:")


def test_author_parameters_without_an_author_leave_the_settings_empty():
    assert author_parameters(NO_DELIVERY) == {"changed_by": None, "request_id": None}
    assert author_parameters(by("r", "ci")) == {"changed_by": "ci", "request_id": "r"}


def psql_update(database_url: str, configuration_id: str, comments: str) -> None:
    execute(
        database_url,
        "UPDATE configurations SET comments = %s WHERE id = %s",
        (comments, configuration_id),
    )


def test_retention_keeps_the_newest_whoever_writes(database_url, application_id):
    configuration_id = create(database_url, application_id).representation.id
    with keeping(database_url, 5):
        removed = [put(database_url, configuration_id, {"v": n}).removed for n in range(1, 11)]
        assert sum(removed) == 6 and removed[-1] == 1
        assert [r["revision"] for r in revisions(database_url, configuration_id)] == [
            7,
            8,
            9,
            10,
            11,
        ]

        for n in range(3):  # psql's changes are trimmed as the API's are
            psql_update(database_url, configuration_id, str(n))
            assert len(revisions(database_url, configuration_id)) == 5
        latest = put(database_url, configuration_id, {"v": "last"})
        noop = put(database_url, configuration_id, {"v": "last"})

    assert (latest.removed, noop.removed, noop.recorded) == (1, 0, False)
    kept = revisions(database_url, configuration_id)
    assert [r["revision"] for r in kept] == [11, 12, 13, 14, 15]
    assert kept[-1]["body"].encode() == current(database_url, configuration_id).body


def test_keeping_one_keeps_the_current_revision_and_zero_keeps_all(database_url, application_id):
    configuration_id = create(database_url, application_id).representation.id
    with keeping(database_url, 0):
        for n in range(3):
            put(database_url, configuration_id, {"v": n})
        psql_update(database_url, configuration_id, "by hand")
    assert len(revisions(database_url, configuration_id)) == 5
    with keeping(database_url, 1):
        put(database_url, configuration_id, {"v": "x"})
        assert [r["revision"] for r in revisions(database_url, configuration_id)] == [6]
        psql_update(database_url, configuration_id, "by hand again")
    assert [r["revision"] for r in revisions(database_url, configuration_id)] == [7]
    assert current(database_url, configuration_id).revision == 7


def test_deleting_a_configuration_in_sql_deletes_its_revisions(database_url, application_id):
    created = create(database_url, application_id)
    execute(database_url, "DELETE FROM configurations WHERE id = %s", (created.representation.id,))
    assert revisions(database_url, created.representation.id) == []


def test_the_migration_gives_each_existing_configuration_its_revision_1(empty_database, tmp_path):
    before_revisions = files_of(m for m in discover() if m.version is not None and m.version < 7)
    apply_migrations(empty_database, write_files(tmp_path, before_revisions))
    config = '{"b": [1, 2.50], "a": {"x": null}}'
    execute(
        empty_database,
        "INSERT INTO applications (id, name) VALUES ('01ARZ3NDEKTSV4RRFFQ69G5FA1', 'a');"
        "INSERT INTO configurations (id, application_id, name, comments, config) VALUES"
        " ('01ARZ3NDEKTSV4RRFFQ69G5FC1', '01ARZ3NDEKTSV4RRFFQ69G5FA1', 'c', 'é', %s)",
        (config,),
    )
    # The bytes GET served before the migration, as its SELECT built them then.
    [before] = rows(
        empty_database,
        "SELECT row_to_json(c)::text AS body FROM (SELECT id, application_id, name,"
        " comments, config FROM configurations) c",
    )
    before = before["body"]

    apply_migrations(empty_database)

    [revision] = revisions(empty_database, "01ARZ3NDEKTSV4RRFFQ69G5FC1")
    assert (revision["revision"], revision["body"]) == (1, before)
    assert revision["changed_by"].startswith("db:") and revision["request_id"] is None
    now = current(empty_database, "01ARZ3NDEKTSV4RRFFQ69G5FC1")
    assert now.body == before.encode() and now.etag == etag_of(before.encode())
    assert now.revision == 1

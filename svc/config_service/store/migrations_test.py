import re
import threading

import psycopg2
import psycopg2.extras
import pytest

from config_service.store import migrations
from config_service.store.migration_files import MigrationError, discover
from config_service.store.migrations import apply_migrations, ensure_database, migrate, pending
from conftest import make_settings
from test import postgres
from test.concurrency import together
from test.migration_files import RECORDS_REPEATABLE, RELEASED_BEFORE, write_files
from test.pgbouncer import PgBouncer
from test.postgres import rows, value

BODY = re.compile(r"\$\$(.*)\$\$", re.DOTALL)


def function(name: str, returns: int) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS int LANGUAGE sql AS $$ SELECT {returns} $$;"
    )


def call(dsn: str, name: str) -> int:
    return value(dsn, f"SELECT {name}() AS answer")


def recorded_functions(dsn: str) -> list[tuple[str, str]]:
    found = rows(
        dsn, "SELECT name, checksum FROM migrations WHERE version IS NULL ORDER BY applied_at"
    )
    return [(row["name"], row["checksum"]) for row in found]


def migrating(dsn: str, directory):
    """A call for test.concurrency.together: apply the migrations of `directory` once started."""

    def migrate_when(start):
        start()
        return apply_migrations(dsn, directory)

    return migrate_when


def test_the_shipped_migrations_create_the_data_model(empty_database):
    applied = apply_migrations(empty_database)

    assert applied == discover()
    columns = rows(
        empty_database,
        "SELECT table_name, column_name, data_type, character_maximum_length AS length"
        " FROM information_schema.columns WHERE table_schema = 'public'"
        " AND table_name IN ('applications', 'configurations') ORDER BY table_name, column_name",
    )
    shape = {(c["table_name"], c["column_name"]): (c["data_type"], c["length"]) for c in columns}
    assert shape == {
        ("applications", "id"): ("character varying", 26),
        ("applications", "name"): ("character varying", 256),
        ("applications", "comments"): ("character varying", 1024),
        ("configurations", "id"): ("character varying", 26),
        ("configurations", "application_id"): ("character varying", 26),
        ("configurations", "name"): ("character varying", 256),
        ("configurations", "comments"): ("character varying", 1024),
        ("configurations", "config"): ("jsonb", None),
    }
    indexes = {row["indexname"] for row in rows(empty_database, "SELECT indexname FROM pg_indexes")}
    assert {
        "applications_name_key",
        "configurations_application_id_name_key",
        "configurations_application_id_id_idx",
    } <= indexes


def test_records_each_migration_with_checksum_time_and_duration(empty_database):
    apply_migrations(empty_database)

    recorded = rows(empty_database, "SELECT * FROM migrations ORDER BY applied_at")
    assert [(r["version"], r["name"], r["checksum"]) for r in recorded] == [
        (m.version, m.name, m.checksum) for m in discover()
    ]
    for row in recorded:
        assert row["applied_at"].utcoffset() is not None
        assert row["duration_ms"] >= 0


def test_applying_twice_changes_nothing(empty_database):
    apply_migrations(empty_database)
    before = rows(empty_database, "SELECT * FROM migrations ORDER BY applied_at")

    assert apply_migrations(empty_database) == []
    assert rows(empty_database, "SELECT * FROM migrations ORDER BY applied_at") == before


def public_functions(dsn: str) -> dict[str, str]:
    """Each function of the public schema, by name, with its body as PostgreSQL keeps it."""
    found = rows(
        dsn,
        "SELECT proname AS name, prosrc AS body FROM pg_proc"
        " WHERE pronamespace = 'public'::regnamespace",
    )
    return {row["name"]: row["body"] for row in found}


@pytest.mark.parametrize("start", ["fresh", "upgraded from the release before"])
def test_every_function_is_its_one_files_body(empty_database, tmp_path, start):
    """On a fresh database, and on one the release before migrated (its versioned files,
    whose functions were written out whole in 0003 to 0010), each function in the database
    is the body of its file in functions/, and none lacks a file."""
    if start != "fresh":
        apply_migrations(empty_database, write_files(tmp_path, RELEASED_BEFORE))
        assert "configuration_update" in public_functions(empty_database)

    apply_migrations(empty_database)

    files = {m.name: BODY.search(m.sql)[1] for m in discover() if m.repeatable}
    assert public_functions(empty_database) == files
    for migration in discover():
        if migration.repeatable:  # named after the one function it creates
            assert f"CREATE OR REPLACE FUNCTION {migration.name}(" in migration.sql


def test_a_changed_applied_file_is_refused(empty_database, tmp_path):
    write_files(tmp_path, {"0001_first.sql": "CREATE TABLE first (id int);"})
    apply_migrations(empty_database, tmp_path)
    write_files(tmp_path, {"0001_first.sql": "CREATE TABLE first (id bigint);"})

    with pytest.raises(MigrationError, match="0001_first changed after it was applied"):
        apply_migrations(empty_database, tmp_path)


def test_a_repeatable_file_is_applied_once_after_the_versioned_ones_and_again_when_changed(
    empty_database, tmp_path
):
    write_files(
        tmp_path,
        {
            **RECORDS_REPEATABLE,
            "0012_table.sql": "CREATE TABLE answers (answer int);",
            "functions/answer.sql": function("answer", 1),
        },
    )
    first = apply_migrations(empty_database, tmp_path)
    assert [m.label for m in first] == [
        "0011_record_repeatable_migrations",
        "0012_table",
        "functions/answer",
    ]
    assert apply_migrations(empty_database, tmp_path) == []

    write_files(tmp_path, {"functions/answer.sql": function("answer", 2)})
    [again] = apply_migrations(empty_database, tmp_path)

    assert (again.label, call(empty_database, "answer")) == ("functions/answer", 2)
    assert recorded_functions(empty_database) == [
        ("answer", first[-1].checksum),
        ("answer", again.checksum),
    ]
    assert apply_migrations(empty_database, tmp_path) == []


@pytest.mark.parametrize("old_first", [True, False], ids=["replaced", "newer versions"])
def test_an_older_build_leaves_a_newer_body_in_place_and_is_ready(
    empty_database, tmp_path, old_first
):
    """An instance of an older build starting after a newer one migrated (a restart during a
    rolling upgrade, or a rollback) leaves the newer body in place, whether its own body was
    applied before and replaced (same versions) or never (the database has a version the
    older build lacks); nothing of its own is pending, so it is ready."""
    old, new = tmp_path / "old", tmp_path / "new"
    write_files(old, {**RECORDS_REPEATABLE, "functions/answer.sql": function("answer", 1)})
    newer_version = {} if old_first else {"0012_newer.sql": "SELECT 1;"}
    write_files(
        new,
        {**RECORDS_REPEATABLE, **newer_version, "functions/answer.sql": function("answer", 2)},
    )
    if old_first:
        apply_migrations(empty_database, old)
    apply_migrations(empty_database, new)

    assert apply_migrations(empty_database, old) == []
    assert call(empty_database, "answer") == 2
    left = migrations.bodies_left_alone(empty_database, old)
    assert [m.label for m in left] == ["functions/answer"]
    assert migrations.bodies_left_alone(empty_database, new) == []
    connection = psycopg2.connect(empty_database, cursor_factory=psycopg2.extras.RealDictCursor)
    try:
        with connection.cursor() as cursor:
            assert pending(cursor, discover(old)) == []
    finally:
        connection.close()


def test_a_failing_file_rolls_back_and_is_not_recorded(empty_database, tmp_path):
    write_files(
        tmp_path,
        {
            "0001_good.sql": "CREATE TABLE good (id int);",
            "0002_bad.sql": "CREATE TABLE half (id int); SELECT no_such_function();",
        },
    )
    with pytest.raises(MigrationError, match="0002_bad failed and was rolled back"):
        apply_migrations(empty_database, tmp_path)

    assert [r["version"] for r in rows(empty_database, "SELECT version FROM migrations")] == [1]
    tables = rows(empty_database, "SELECT to_regclass('half') IS NULL AS missing")
    assert tables == [{"missing": True}]


def test_a_failing_function_file_is_named_and_not_recorded(empty_database, tmp_path):
    write_files(tmp_path, {**RECORDS_REPEATABLE, "functions/broken.sql": "CREATE FUNCTION (;"})
    with pytest.raises(MigrationError, match="functions/broken failed and was rolled back"):
        apply_migrations(empty_database, tmp_path)
    assert recorded_functions(empty_database) == []


# pg_sleep keeps the first runner inside its transaction while the others wait for the lock.
SLOW_FILES = {
    **RECORDS_REPEATABLE,
    "0001_slow.sql": "SELECT pg_sleep(0.3); CREATE TABLE once (id int);",
    "0002_after.sql": "CREATE TABLE after_once (id int);",
    "functions/answer.sql": "SELECT pg_sleep(0.2);" + function("answer", 1),
}


def test_concurrent_runners_apply_each_file_once(empty_database, tmp_path):
    write_files(tmp_path, SLOW_FILES)

    results = together([migrating(empty_database, tmp_path)] * 4)

    # Each file is locked for on its own, so runners may share the work: each file once.
    assert sorted(m.label for run in results for m in run) == sorted(
        m.label for m in discover(tmp_path)
    )
    assert len(rows(empty_database, "SELECT * FROM migrations")) == 4


def test_concurrent_runners_through_pgbouncer_in_transaction_mode_apply_each_file_once(
    empty_database, tmp_path
):
    write_files(tmp_path, SLOW_FILES)
    # Two server connections for three runners: transactions of one runner land on either.
    with PgBouncer(empty_database, default_pool_size=2, max_client_conn=10) as pgbouncer:
        results = together([migrating(pgbouncer.dsn(empty_database), tmp_path)] * 3)

    assert sorted(m.label for run in results for m in run) == sorted(
        m.label for m in discover(tmp_path)
    )
    assert len(rows(empty_database, "SELECT * FROM migrations")) == 4


def test_pending_lists_what_is_not_applied(empty_database, tmp_path):
    write_files(tmp_path, {**RECORDS_REPEATABLE, "0001_a.sql": "SELECT 1;"})
    connection = psycopg2.connect(empty_database, cursor_factory=psycopg2.extras.RealDictCursor)
    connection.autocommit = True  # as the service reads
    try:
        with connection.cursor() as cursor:
            labels = lambda: [m.label for m in pending(cursor, discover(tmp_path))]  # noqa: E731
            assert labels() == ["0001_a", "0011_record_repeatable_migrations"]
            apply_migrations(empty_database, tmp_path)
            write_files(tmp_path, {"0002_b.sql": "SELECT 2;", "functions/f.sql": function("f", 1)})
            assert labels() == ["0002_b", "functions/f"]
    finally:
        connection.close()


def test_ensure_database_creates_a_missing_database_once():
    dsn = postgres.dsn_for(f"config_service_test_created_{threading.get_ident()}")
    try:
        assert ensure_database(dsn) is True
        assert ensure_database(dsn) is False
        assert rows(dsn, "SELECT current_database() AS name")[0]["name"].endswith(
            str(threading.get_ident())
        )
    finally:
        postgres.drop_database(dsn)


def test_migrate_creates_the_database_once_and_says_what_it_applied(database_url):
    name = f"config_service_test_migrate_{threading.get_ident()}"
    dsn = postgres.dsn_for(name)
    try:
        first = migrate(make_settings(dsn, revisions_keep=7))
        again = migrate(make_settings(dsn, revisions_keep=7))
        changed = migrate(make_settings(dsn, revisions_keep=3))
        kept = rows(dsn, "SELECT keep FROM revision_retention")
    finally:
        postgres.drop_database(dsn)
    said = [line for _, line in first.lines()]
    assert said[0] == f"created the database {name} (DATABASE_URL)"
    assert "applied migration 0001_create_applications" in said
    assert said[-2] == "applied migration functions/set_configuration_author"
    assert said[-1] == "REVISIONS_KEEP is now 7 for every writer of this database (it was 0)"
    assert again.lines() == []
    assert [line for _, line in changed.lines()] == [
        "REVISIONS_KEEP is now 3 for every writer of this database (it was 7)"
    ]
    assert kept == [{"keep": 3}]


def test_main_creates_migrates_and_reports(monkeypatch, capsys):
    dsn = postgres.dsn_for(f"config_service_test_main_{threading.get_ident()}")
    monkeypatch.setattr(migrations, "get_settings", lambda: make_settings(dsn))
    try:
        assert migrations.main() == 0
        assert migrations.main() == 0
    finally:
        postgres.drop_database(dsn)
    printed = capsys.readouterr().out
    assert "created the database" in printed
    assert "applied migration 0001_create_applications" in printed
    assert "database is up to date" in printed


def test_main_says_when_postgres_cannot_be_reached(monkeypatch, capsys):
    unreachable = "postgresql://postgres@127.0.0.1:9/nothing"
    monkeypatch.setattr(migrations, "get_settings", lambda: make_settings(unreachable))
    assert migrations.main() == 1
    assert "cannot reach PostgreSQL" in capsys.readouterr().err

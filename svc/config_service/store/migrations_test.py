import threading
from types import SimpleNamespace

import psycopg2
import psycopg2.extras
import pytest

from config_service.store import migrations
from config_service.store.migrations import (
    MigrationError,
    apply_migrations,
    discover,
    ensure_database,
    pending,
)
from test import postgres
from test.pgbouncer import PgBouncer


def query(dsn: str, statement: str, params=()) -> list[dict]:
    connection = psycopg2.connect(dsn, cursor_factory=psycopg2.extras.RealDictCursor)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall()
    finally:
        connection.close()


def write_migrations(directory, files: dict[str, str]):
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def test_the_shipped_migrations_create_the_data_model(empty_database):
    applied = apply_migrations(empty_database)

    assert [m.version for m in applied] == [m.version for m in discover()]
    columns = query(
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
    indexes = {
        row["indexname"] for row in query(empty_database, "SELECT indexname FROM pg_indexes")
    }
    assert {
        "applications_name_key",
        "configurations_application_id_name_key",
        "configurations_application_id_id_idx",
    } <= indexes


def test_records_each_migration_with_checksum_time_and_duration(empty_database):
    apply_migrations(empty_database)

    rows = query(empty_database, "SELECT * FROM migrations ORDER BY version")
    assert [(r["version"], r["name"]) for r in rows] == [(m.version, m.name) for m in discover()]
    assert [r["checksum"] for r in rows] == [m.checksum for m in discover()]
    for row in rows:
        assert row["applied_at"].utcoffset() is not None
        assert row["duration_ms"] >= 0


def test_applying_twice_changes_nothing(empty_database):
    apply_migrations(empty_database)
    before = query(empty_database, "SELECT * FROM migrations ORDER BY version")

    assert apply_migrations(empty_database) == []
    assert query(empty_database, "SELECT * FROM migrations ORDER BY version") == before


def test_a_changed_applied_file_is_refused(empty_database, tmp_path):
    write_migrations(tmp_path, {"0001_first.sql": "CREATE TABLE first (id int);"})
    apply_migrations(empty_database, tmp_path)
    write_migrations(tmp_path, {"0001_first.sql": "CREATE TABLE first (id bigint);"})

    with pytest.raises(MigrationError, match="0001_first changed after it was applied"):
        apply_migrations(empty_database, tmp_path)


def test_a_failing_file_rolls_back_and_is_not_recorded(empty_database, tmp_path):
    write_migrations(
        tmp_path,
        {
            "0001_good.sql": "CREATE TABLE good (id int);",
            "0002_bad.sql": "CREATE TABLE half (id int); SELECT no_such_function();",
        },
    )
    with pytest.raises(MigrationError, match="0002_bad failed and was rolled back"):
        apply_migrations(empty_database, tmp_path)

    assert [r["version"] for r in query(empty_database, "SELECT version FROM migrations")] == [1]
    tables = query(empty_database, "SELECT to_regclass('half') IS NULL AS missing")
    assert tables == [{"missing": True}]


def test_concurrent_runners_apply_each_file_once(empty_database, tmp_path):
    # pg_sleep keeps the first runner inside its transaction while the others start.
    write_migrations(
        tmp_path,
        {
            "0001_slow.sql": "SELECT pg_sleep(0.3); CREATE TABLE once (id int);",
            "0002_after.sql": "CREATE TABLE after_once (id int);",
        },
    )
    results, failures = [], []

    def run():
        try:
            results.append(apply_migrations(empty_database, tmp_path))
        except Exception as error:  # noqa: BLE001 - collected for the assertion below
            failures.append(error)

    runners = [threading.Thread(target=run) for _ in range(4)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()

    assert failures == []
    # Each file is locked for on its own, so runners may share the work: each file once.
    applied = sorted(migration.version for run in results for migration in run)
    assert applied == [1, 2]
    assert len(query(empty_database, "SELECT * FROM migrations")) == 2


def test_pending_lists_what_is_not_applied(empty_database, tmp_path):
    write_migrations(tmp_path, {"0001_a.sql": "SELECT 1;"})
    connection = psycopg2.connect(empty_database, cursor_factory=psycopg2.extras.RealDictCursor)
    connection.autocommit = True  # as the service reads
    try:
        with connection.cursor() as cursor:
            assert [m.version for m in pending(cursor, discover(tmp_path))] == [1]
            apply_migrations(empty_database, tmp_path)
            write_migrations(tmp_path, {"0002_b.sql": "SELECT 2;"})
            assert [m.version for m in pending(cursor, discover(tmp_path))] == [2]
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"1_short.sql": "SELECT 1;"}, "named NNNN_lower_snake.sql"),
        ({"0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"}, "version 1 is used twice"),
    ],
)
def test_discover_rejects_misnamed_files(tmp_path, files, message):
    write_migrations(tmp_path, files)
    with pytest.raises(MigrationError, match=message):
        discover(tmp_path)


def test_ensure_database_creates_a_missing_database_once():
    dsn = postgres.dsn_for(f"config_service_test_created_{threading.get_ident()}")
    try:
        assert ensure_database(dsn) is True
        assert ensure_database(dsn) is False
        assert query(dsn, "SELECT current_database() AS name")[0]["name"].endswith(
            str(threading.get_ident())
        )
    finally:
        postgres.drop_database(dsn)


def test_main_creates_migrates_and_reports(monkeypatch, capsys):
    dsn = postgres.dsn_for(f"config_service_test_main_{threading.get_ident()}")
    monkeypatch.setattr(migrations, "get_settings", lambda: SimpleNamespace(listen_dsn=dsn))
    try:
        assert migrations.main() == 0
        assert migrations.main() == 0
    finally:
        postgres.drop_database(dsn)
    printed = capsys.readouterr().out
    assert "created database" in printed
    assert "applied migration 0001_create_applications" in printed
    assert "database is up to date" in printed


def test_main_says_when_postgres_cannot_be_reached(monkeypatch, capsys):
    unreachable = "postgresql://postgres@127.0.0.1:9/nothing?connect_timeout=1"
    monkeypatch.setattr(migrations, "get_settings", lambda: SimpleNamespace(listen_dsn=unreachable))
    assert migrations.main() == 1
    assert "cannot reach PostgreSQL" in capsys.readouterr().err


def test_concurrent_runners_through_pgbouncer_in_transaction_mode_apply_each_file_once(
    empty_database, tmp_path
):
    write_migrations(
        tmp_path,
        {
            "0001_slow.sql": "SELECT pg_sleep(0.2); CREATE TABLE once (id int);",
            "0002_after.sql": "CREATE TABLE after_once (id int);",
        },
    )
    results, failures = [], []
    # Two server connections for three runners: transactions of one runner land on either.
    with PgBouncer(empty_database, default_pool_size=2, max_client_conn=10) as pgbouncer:

        def run():
            try:
                results.append(apply_migrations(pgbouncer.dsn(empty_database), tmp_path))
            except Exception as error:  # noqa: BLE001 - collected for the assertion below
                failures.append(error)

        runners = [threading.Thread(target=run) for _ in range(3)]
        for runner in runners:
            runner.start()
        for runner in runners:
            runner.join(timeout=30)

    assert failures == []
    assert sorted(migration.version for run in results for migration in run) == [1, 2]
    assert len(query(empty_database, "SELECT * FROM migrations")) == 2

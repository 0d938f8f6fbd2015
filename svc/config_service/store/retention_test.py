from config_service.store.migrations import apply_migrations
from config_service.store.retention import record_revisions_keep
from test.postgres import value


def kept(dsn: str) -> int:
    return value(dsn, "SELECT keep FROM revision_retention")


def test_the_number_is_recorded_and_the_one_it_replaced_returned(database_url):
    before = kept(database_url)
    try:
        assert record_revisions_keep(database_url, before + 3) == before
        assert kept(database_url) == before + 3
        assert record_revisions_keep(database_url, before + 3) is None  # the same: unchanged
    finally:
        record_revisions_keep(database_url, before)
    assert kept(database_url) == before


def test_a_freshly_migrated_database_keeps_every_revision(empty_database):
    apply_migrations(empty_database)
    assert kept(empty_database) == 0

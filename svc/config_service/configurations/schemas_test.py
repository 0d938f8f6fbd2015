import psycopg2
import psycopg2.extras
import pytest
from psycopg2.extras import Json

from config_service.bus import NeedsTransaction
from config_service.configurations.schemas import SchemaBook, _Bounded, check, refused_link
from config_service.errors import Conflict, InvalidValue
from test.random_refs import random_name

SCHEMA = {"type": "object", "properties": {"size": {"type": "integer", "minimum": 1}}}
SCHEMA_ID = "01ARZ3NDEKTSV4RRFFQ69G5FA2"
FOLLOWER_ID = "01ARZ3NDEKTSV4RRFFQ69G5FA3"


@pytest.fixture
def schema(cursor) -> str:
    """A schema configuration and one unpinned follower of it, in the test's transaction."""
    cursor.execute(
        "INSERT INTO applications (id, name) VALUES (%s, %s)", (SCHEMA_ID, random_name())
    )
    cursor.execute(
        "INSERT INTO configurations (id, application_id, name, config) VALUES (%s, %s, %s, %s)",
        (SCHEMA_ID, SCHEMA_ID, "schema", Json(SCHEMA)),
    )
    cursor.execute(
        "INSERT INTO configurations (id, application_id, name, config) VALUES (%s, %s, %s, %s)",
        (FOLLOWER_ID, SCHEMA_ID, "follower", Json({"size": 2})),
    )
    cursor.execute(
        "INSERT INTO configuration_schemas (configuration_id, schema_id) VALUES (%s, %s)",
        (FOLLOWER_ID, SCHEMA_ID),
    )
    return SCHEMA_ID


def test_a_body_is_checked_against_the_schema_revision_and_every_failure_listed(cursor, schema):
    book = SchemaBook()
    assert check(cursor, book, FOLLOWER_ID, {"size": 3}, f"{schema}@1") == f"{schema}@1"
    with pytest.raises(InvalidValue) as refused:
        check(cursor, book, FOLLOWER_ID, {"size": 0}, f"{schema}@1")
    assert refused.value.errors == (
        {"loc": ["body", "config", "size"], "msg": "must be >= 1", "keyword": "minimum"},
    )


def test_a_compiled_schema_revision_is_remembered(cursor, schema):
    book = SchemaBook()
    check(cursor, book, FOLLOWER_ID, {"size": 3}, f"{schema}@1")
    cursor.execute("DELETE FROM configuration_revisions WHERE configuration_id = %s", (schema,))
    assert check(cursor, book, FOLLOWER_ID, {"size": 3}, f"{schema}@1")  # not read again


def test_a_schema_that_is_not_supported_is_422_on_the_link(cursor, schema):
    cursor.execute("UPDATE configurations SET config = '{\"foo\": 1}' WHERE id = %s", (schema,))
    with pytest.raises(InvalidValue) as refused:
        check(cursor, SchemaBook(), FOLLOWER_ID, {}, f"{schema}@2")
    assert refused.value.loc == ("header", "link")
    assert refused.value.errors[0]["loc"][:2] == ["header", "link"]


def test_followers_are_checked_in_a_transaction_only(database_url):
    connection = psycopg2.connect(database_url, cursor_factory=psycopg2.extras.RealDictCursor)
    try:
        connection.autocommit = True
        with connection.cursor() as autocommit, pytest.raises(NeedsTransaction):
            check(autocommit, SchemaBook(), SCHEMA_ID, SCHEMA, "+followers")
    finally:
        connection.close()


def test_a_schema_change_its_followers_would_not_satisfy_is_a_conflict_naming_them(cursor, schema):
    stricter = {"type": "object", "properties": {"size": {"type": "integer", "minimum": 5}}}
    with pytest.raises(Conflict) as refused:
        check(cursor, SchemaBook(), schema, stricter, "+followers")
    assert FOLLOWER_ID in refused.value.detail
    assert refused.value.errors[0]["loc"] == ["configurations", FOLLOWER_ID, "config", "size"]
    assert check(cursor, SchemaBook(), schema, SCHEMA, "+followers") == "+followers"


def test_a_schema_with_followers_must_be_supported(cursor, schema):
    with pytest.raises(InvalidValue) as refused:
        check(cursor, SchemaBook(), schema, {"foo": 1}, "+followers")
    assert refused.value.loc == ("body", "config")


def test_claims_are_remembered_and_the_oldest_forgotten():
    book = SchemaBook()
    assert book.claim("a") == ""
    book.remember("a", "S@1")
    assert book.claim("a") == "S@1"
    bounded = _Bounded(2)
    for key in "abc":
        bounded.put(key, key)
    assert list(bounded) == ["b", "c"]


@pytest.mark.parametrize("reason", ["missing", "self", "loop"])
def test_every_refused_link_is_422_on_the_link_header(reason):
    assert refused_link(reason).loc == ("header", "link")

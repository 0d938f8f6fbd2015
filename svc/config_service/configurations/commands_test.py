import json

import pytest

from config_service.configurations.commands import (
    CreateConfiguration,
    UpdateConfiguration,
    create_configuration,
    update_configuration,
)
from config_service.errors import AlreadyExists, InvalidValue, NotFound, PreconditionFailed
from test.random_refs import MISSING_ID, random_name


@pytest.fixture
def application_id(cursor) -> str:
    application_id = "01ARZ3NDEKTSV4RRFFQ69G5FA1"
    cursor.execute(
        "INSERT INTO applications (id, name) VALUES (%s, %s)", (application_id, random_name())
    )
    return application_id


def create(cursor, application_id: str, name: str | None = None, config=None):
    return create_configuration(
        cursor,
        CreateConfiguration(
            application_id=application_id,
            name=name or random_name("cfg"),
            comments="",
            config=config if config is not None else {"k": "v"},
        ),
    ).representation


def update(cursor, command: UpdateConfiguration):
    return update_configuration(cursor, command).representation


def stored_config(cursor, configuration_id: str) -> dict:
    cursor.execute("SELECT config FROM configurations WHERE id = %s", (configuration_id,))
    return cursor.fetchone()["config"]


def test_create_stores_the_config_as_jsonb(cursor, application_id):
    created = create(cursor, application_id, config={"n": 1, "list": [True, None]})

    assert stored_config(cursor, created.id) == {"n": 1, "list": [True, None]}
    assert json.loads(created.body)["application_id"] == application_id


def test_create_in_a_missing_application_raises_invalid_value_on_that_field(cursor):
    with pytest.raises(InvalidValue) as caught:
        create(cursor, MISSING_ID)
    assert caught.value.loc == ("body", "application_id")


def test_create_with_a_name_taken_in_the_application_raises_already_exists(cursor, application_id):
    create(cursor, application_id, name="same")
    with pytest.raises(AlreadyExists):
        create(cursor, application_id, name="same")


def test_update_replaces_name_comments_and_config(cursor, application_id):
    created = create(cursor, application_id)

    updated = update(
        cursor, UpdateConfiguration(id=created.id, name="renamed", comments="x", config={"new": 2})
    )

    assert json.loads(updated.body) == {
        "id": created.id,
        "application_id": application_id,
        "name": "renamed",
        "comments": "x",
        "config": {"new": 2},
    }
    assert stored_config(cursor, created.id) == {"new": 2}


def test_update_of_a_missing_configuration_raises_not_found(cursor):
    with pytest.raises(NotFound):
        update(cursor, UpdateConfiguration(id=MISSING_ID, name="x", comments="", config={}))


def test_update_to_a_taken_name_raises_already_exists(cursor, application_id):
    create(cursor, application_id, name="taken")
    created = create(cursor, application_id)
    with pytest.raises(AlreadyExists):
        update(cursor, UpdateConfiguration(id=created.id, name="taken", comments="", config={}))


def test_a_create_sent_twice_is_one_configuration_with_one_revision(cursor, application_id):
    command = CreateConfiguration(
        application_id=application_id, name=random_name("cfg"), comments="", config={"k": 1}
    )
    first = create_configuration(cursor, command).representation
    again = create_configuration(cursor, command).representation  # e.g. its answer was lost
    assert (again.id, again.body, again.revision) == (first.id, first.body, 1)
    cursor.execute(
        "SELECT (SELECT count(*) FROM configurations WHERE application_id = %(a)s) AS rows,"
        " (SELECT count(*) FROM configuration_revisions WHERE configuration_id = %(c)s) AS revs",
        {"a": application_id, "c": first.id},
    )
    assert cursor.fetchone() == {"rows": 1, "revs": 1}


def test_writes_are_idempotent_but_a_put_with_if_match():
    create = CreateConfiguration(application_id="a", name="n", comments="", config={})
    put = UpdateConfiguration(id="c", name="n", comments="", config={})
    assert create.idempotent() and put.idempotent()
    assert not UpdateConfiguration(
        id="c", name="n", comments="", config={}, if_match="*"
    ).idempotent()
    assert create.id != CreateConfiguration("a", "n", "", {}).id  # a new id per request


def test_update_with_a_stale_if_match_changes_nothing(cursor, application_id):
    created = create(cursor, application_id, config={"v": 1})
    with pytest.raises(PreconditionFailed):
        update(
            cursor,
            UpdateConfiguration(
                id=created.id, name="x", comments="", config={"v": 2}, if_match='"old"'
            ),
        )
    assert stored_config(cursor, created.id) == {"v": 1}

    update(
        cursor,
        UpdateConfiguration(id=created.id, name="x", comments="", config={"v": 3}, if_match="*"),
    )
    assert stored_config(cursor, created.id) == {"v": 3}

import json

import pytest

from config_service.applications.commands import (
    CreateApplication,
    UpdateApplication,
    create_application,
    update_application,
)
from config_service.errors import AlreadyExists, NotFound, PreconditionFailed
from test.random_refs import MISSING_ID, random_name


def stored(cursor, application_id: str) -> dict | None:
    cursor.execute("SELECT name, comments FROM applications WHERE id = %s", (application_id,))
    return cursor.fetchone()


def test_create_inserts_with_a_new_id(cursor):
    name = random_name("app")
    first = create_application(cursor, CreateApplication(name=name, comments="c"))
    second = create_application(cursor, CreateApplication(name=random_name("app"), comments=""))

    assert first.id != second.id
    assert stored(cursor, first.id) == {"name": name, "comments": "c"}
    assert json.loads(first.body) == {
        "id": first.id,
        "name": name,
        "comments": "c",
        "configuration_ids": [],
    }


def test_create_with_a_taken_name_raises_already_exists(cursor):
    name = random_name("app")
    create_application(cursor, CreateApplication(name=name, comments=""))
    with pytest.raises(AlreadyExists, match=name):
        create_application(cursor, CreateApplication(name=name, comments=""))


def test_update_replaces_the_stored_values(cursor):
    created = create_application(cursor, CreateApplication(name=random_name(), comments="old"))
    name = random_name("new")

    updated = update_application(cursor, UpdateApplication(id=created.id, name=name, comments=""))

    assert stored(cursor, created.id) == {"name": name, "comments": ""}
    assert updated.etag != created.etag


def test_update_of_a_missing_application_raises_not_found(cursor):
    with pytest.raises(NotFound):
        update_application(cursor, UpdateApplication(id=MISSING_ID, name="x", comments=""))


def test_update_to_a_taken_name_raises_already_exists(cursor):
    taken = random_name("taken")
    create_application(cursor, CreateApplication(name=taken, comments=""))
    created = create_application(cursor, CreateApplication(name=random_name(), comments=""))
    with pytest.raises(AlreadyExists):
        update_application(cursor, UpdateApplication(id=created.id, name=taken, comments=""))


def test_update_honours_if_match(cursor):
    created = create_application(cursor, CreateApplication(name=random_name(), comments=""))

    with pytest.raises(PreconditionFailed):
        update_application(
            cursor, UpdateApplication(id=created.id, name="x", comments="", if_match='"stale"')
        )
    first = update_application(
        cursor,
        UpdateApplication(id=created.id, name=random_name(), comments="", if_match=created.etag),
    )
    renamed = random_name()
    update_application(
        cursor,
        UpdateApplication(
            id=created.id, name=renamed, comments="", if_match=f'"other", {first.etag}'
        ),
    )
    assert stored(cursor, created.id)["name"] == renamed

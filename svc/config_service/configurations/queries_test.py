import json

import pytest

from config_service.configurations.queries import GetConfiguration, get_configuration
from config_service.errors import NotFound
from test.random_refs import random_name

APPLICATION_ID = "01ARZ3NDEKTSV4RRFFQ69G5FA1"
CONFIGURATION_ID = "01ARZ3NDEKTSV4RRFFQ69G5FC1"


def test_get_configuration_renders_the_stored_row(cursor):
    cursor.execute(
        "INSERT INTO applications (id, name) VALUES (%s, %s)", (APPLICATION_ID, random_name())
    )
    cursor.execute(
        "INSERT INTO configurations (id, application_id, name, comments, config)"
        " VALUES (%s, %s, 'db', 'primary', %s)",
        (CONFIGURATION_ID, APPLICATION_ID, '{"pool": {"size": 10}, "hosts": ["a", "b"]}'),
    )

    representation = get_configuration(cursor, GetConfiguration(id=CONFIGURATION_ID))

    assert (representation.id, representation.revision) == (CONFIGURATION_ID, 1)
    assert json.loads(representation.body) == {
        "id": CONFIGURATION_ID,
        "application_id": APPLICATION_ID,
        "name": "db",
        "comments": "primary",
        "config": {"pool": {"size": 10}, "hosts": ["a", "b"]},
    }


def test_get_configuration_of_an_unknown_id_raises_not_found(cursor):
    with pytest.raises(NotFound, match=CONFIGURATION_ID):
        get_configuration(cursor, GetConfiguration(id=CONFIGURATION_ID))

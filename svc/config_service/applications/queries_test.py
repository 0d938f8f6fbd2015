import json

import pytest

from config_service.applications.queries import (
    GetApplication,
    GetApplicationConfigurations,
    ListApplications,
    get_application,
    get_application_configurations,
    list_applications,
)
from config_service.configurations.queries import find_configuration
from config_service.errors import NotFound
from test.random_refs import random_name

IDS = ["01ARZ3NDEKTSV4RRFFQ69G5FA1", "01ARZ3NDEKTSV4RRFFQ69G5FA2", "01ARZ3NDEKTSV4RRFFQ69G5FA3"]


def insert_application(cursor, application_id: str, name: str | None = None) -> None:
    cursor.execute(
        "INSERT INTO applications (id, name, comments) VALUES (%s, %s, 'c')",
        (application_id, name or random_name("app")),
    )


def insert_configuration(cursor, configuration_id: str, application_id: str) -> None:
    cursor.execute(
        "INSERT INTO configurations (id, application_id, name, config) VALUES (%s, %s, %s, '{}')",
        (configuration_id, application_id, random_name("cfg")),
    )


@pytest.fixture
def only_these_applications(cursor):
    """The test's transaction sees no other test's rows."""
    cursor.execute("DELETE FROM configurations")
    cursor.execute("DELETE FROM applications")
    return cursor


def test_get_application_renders_the_row_and_its_ordered_configuration_ids(cursor):
    insert_application(cursor, IDS[0], name="billing")
    for configuration_id in ("01ARZ3NDEKTSV4RRFFQ69G5FC9", "01ARZ3NDEKTSV4RRFFQ69G5FC1"):
        insert_configuration(cursor, configuration_id, IDS[0])

    representation = get_application(cursor, GetApplication(id=IDS[0]))

    assert representation.id == IDS[0]
    assert json.loads(representation.body) == {
        "id": IDS[0],
        "name": "billing",
        "comments": "c",
        "configuration_ids": ["01ARZ3NDEKTSV4RRFFQ69G5FC1", "01ARZ3NDEKTSV4RRFFQ69G5FC9"],
    }


def test_an_application_without_configurations_has_an_empty_list(cursor):
    insert_application(cursor, IDS[0])
    body = json.loads(get_application(cursor, GetApplication(id=IDS[0])).body)
    assert body["configuration_ids"] == []


def test_get_application_of_an_unknown_id_raises_not_found(cursor):
    with pytest.raises(NotFound):
        get_application(cursor, GetApplication(id=IDS[0]))


def test_get_application_is_one_statement_using_the_configuration_index(cursor):
    from config_service.applications.queries import SELECT_APPLICATION

    cursor.execute("SET LOCAL enable_seqscan = off")
    cursor.execute("EXPLAIN " + SELECT_APPLICATION, {"id": IDS[0]})
    plan = "\n".join(row["QUERY PLAN"] for row in cursor.fetchall())
    assert "configurations_application_id_id_idx" in plan


CONFIGURATION_IDS = [f"01ARZ3NDEKTSV4RRFFQ69G5FC{n}" for n in range(10)]
# Configs whose text PostgreSQL keeps as it renders it, not as Python would write it.
CONFIGS = ['{"b": [1, 2.0, 1e2], "a": "é \\" \\u00e9"}', "{}", '{"nested": {"z": null}}']


@pytest.mark.parametrize("count", [0, 1, 3])
def test_an_application_with_its_configurations_embeds_each_ones_get_byte_for_byte(cursor, count):
    insert_application(cursor, IDS[0])
    # Inserted out of id order: the items follow configuration_ids, ascending.
    for configuration_id in reversed(CONFIGURATION_IDS[:count]):
        insert_configuration(cursor, configuration_id, IDS[0])
        cursor.execute(
            "UPDATE configurations SET config = %s::jsonb WHERE id = %s",
            (CONFIGS[int(configuration_id[-1]) % len(CONFIGS)], configuration_id),
        )

    whole = get_application_configurations(cursor, GetApplicationConfigurations(IDS[0]))

    plain = get_application(cursor, GetApplication(IDS[0]))
    items = [find_configuration(cursor, c).body for c in CONFIGURATION_IDS[:count]]
    assert whole.body == plain.body[:-1] + b',"configurations":[' + b",".join(items) + b"]}"
    assert json.loads(whole.body)["configuration_ids"] == CONFIGURATION_IDS[:count]
    assert (whole.id, whole.application_name) == (plain.id, plain.application_name)
    assert whole.etag != plain.etag


def test_an_application_with_its_configurations_of_an_unknown_id_is_the_same_not_found(cursor):
    with pytest.raises(NotFound) as plain:
        get_application(cursor, GetApplication(id=IDS[0]))
    with pytest.raises(NotFound) as whole:
        get_application_configurations(cursor, GetApplicationConfigurations(id=IDS[0]))
    assert whole.value.detail == plain.value.detail


def test_list_applications_pages_by_id(only_these_applications):
    cursor = only_these_applications
    for application_id in reversed(IDS):
        insert_application(cursor, application_id)
    insert_configuration(cursor, "01ARZ3NDEKTSV4RRFFQ69G5FC1", IDS[1])

    first = list_applications(cursor, ListApplications(limit=2))
    second = list_applications(cursor, ListApplications(limit=2, after=first.next_after))

    assert [app["id"] for app in json.loads(first.body)] == IDS[:2]
    assert first.next_after == IDS[1]
    assert json.loads(first.body)[1]["configuration_ids"] == ["01ARZ3NDEKTSV4RRFFQ69G5FC1"]
    assert [app["id"] for app in json.loads(second.body)] == IDS[2:]
    assert second.next_after is None


def test_an_exactly_full_last_page_has_no_next(only_these_applications):
    for application_id in IDS:
        insert_application(only_these_applications, application_id)
    page = list_applications(only_these_applications, ListApplications(limit=3))
    assert page.next_after is None


def test_an_empty_page_is_an_empty_array(only_these_applications):
    page = list_applications(only_these_applications, ListApplications(limit=10))
    assert (page.body, page.next_after) == (b"[]", None)

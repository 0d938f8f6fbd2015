"""Every hostile or broken body, sent to every write endpoint: a clear 4xx, nothing stored."""

import psycopg2
import pytest

from test.random_refs import random_name


def nested(depth: int) -> str:
    return '{"d": ' * (depth - 1) + "{}" + "}" * (depth - 1)


# (case, raw body, content type, expected status)
CASES = [
    ("malformed JSON", b'{"name": ', "application/json", 422),
    ("empty body", b"", "application/json", 422),
    ("JSON null", b"null", "application/json", 422),
    ("JSON array", b"[]", "application/json", 422),
    ("JSON string", b'"name"', "application/json", 422),
    ("NaN literal", b'{"name": "n", "config": {"x": NaN}, "v": NaN}', "application/json", 422),
    ("Infinity literal", b'{"name": "n", "config": {"x": -Infinity}}', "application/json", 422),
    (
        "number too large for a float",
        b'{"name": "n", "config": {"x": 1e999}}',
        "application/json",
        422,
    ),
    (
        "integer past 4300 digits",
        b'{"name": "n", "config": {"x": ' + b"9" * 5000 + b"}}",
        "application/json",
        400,
    ),
    (
        "nested deeper than the limit",
        ('{"name": "n", "config": ' + nested(40) + "}").encode(),
        "application/json",
        422,
    ),
    (
        "nested past Python's recursion",
        b'{"name": "n", "config": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "application/json",
        400,
    ),
    ("NUL in a name", b'{"name": "a\\u0000b", "config": {}}', "application/json", 422),
    (
        "NUL in a config value",
        b'{"name": "n", "config": {"x": "a\\u0000"}}',
        "application/json",
        422,
    ),
    ("NUL in a config key", b'{"name": "n", "config": {"a\\u0000": 1}}', "application/json", 422),
    ("lone surrogate in a name", b'{"name": "\\ud800", "config": {}}', "application/json", 422),
    (
        "lone surrogate in config",
        b'{"name": "n", "config": {"\\udfff": "\\ud800"}}',
        "application/json",
        422,
    ),
    ("invalid UTF-8", b'{"name": "\xff\xfe", "config": {}}', "application/json", 400),
    ("not JSON at all", b"name=n", "application/x-www-form-urlencoded", 415),
    ("no content type", b'{"name": "n", "config": {}}', None, 415),
    (
        "too large",
        b'{"name": "n", "comments": "' + b"c" * (1024 * 1024) + b'"}',
        "application/json",
        413,
    ),
]

ENDPOINTS = [
    "POST /api/v1/applications",
    "PUT application",
    "POST /api/v1/configurations",
    "PUT configuration",
]


@pytest.fixture(scope="module")
def targets(client):
    application = client.post("/api/v1/applications", json={"name": random_name("target")}).json()
    configuration = client.post(
        "/api/v1/configurations",
        json={"application_id": application["id"], "name": "target", "config": {"keep": True}},
    ).json()
    return {
        "POST /api/v1/applications": ("POST", "/api/v1/applications"),
        "PUT application": ("PUT", f"/api/v1/applications/{application['id']}"),
        "POST /api/v1/configurations": ("POST", "/api/v1/configurations"),
        "PUT configuration": ("PUT", f"/api/v1/configurations/{configuration['id']}"),
    }


# A fingerprint of every stored row: equal before and after means nothing was written.
SNAPSHOT = """
    SELECT (SELECT md5(coalesce(string_agg(a::text, ',' ORDER BY id), '')) FROM applications a),
           (SELECT md5(coalesce(string_agg(c::text, ',' ORDER BY id), '')) FROM configurations c)
"""


def snapshot(database_url: str) -> tuple:
    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(SNAPSHOT)
            return cursor.fetchone()
    finally:
        connection.close()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("case", "body", "content_type", "status"), CASES, ids=[c[0] for c in CASES]
)
def test_hostile_bodies_get_a_clear_4xx_and_change_nothing(
    client, database_url, targets, endpoint, case, body, content_type, status
):
    method, path = targets[endpoint]
    headers = {"content-type": content_type} if content_type else {}
    before = snapshot(database_url)

    response = client.request(method, path, content=body, headers=headers)

    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status
    assert snapshot(database_url) == before


TRICKY_TEXT = [
    "O'Brien; DROP TABLE applications;--",
    'quote " and backslash \\ and \\u0000 spelled out',
    "%s %(name)s $1 {} %%",
    "ünïcödé 日本語 😀 \u200b zero-width",
]


@pytest.mark.parametrize("text", TRICKY_TEXT)
def test_sql_and_format_characters_are_stored_and_read_back_verbatim(client, text):
    name = f"{text} {random_name()}"
    application = client.post("/api/v1/applications", json={"name": name, "comments": text})
    assert application.status_code == 201
    configuration = client.post(
        "/api/v1/configurations",
        json={
            "application_id": application.json()["id"],
            "name": text,
            "comments": text,
            "config": {text: [text, {text: text}]},
        },
    )
    assert configuration.status_code == 201

    assert client.get(application.headers["location"]).json()["name"] == name
    read = client.get(configuration.headers["location"]).json()
    assert (read["name"], read["comments"]) == (text, text)
    assert read["config"] == {text: [text, {text: text}]}

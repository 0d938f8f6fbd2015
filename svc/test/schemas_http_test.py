"""Schemas through the API: attaching with a `describedby` Link, every write validated in its
transaction, a schema's change checked against its followers, pinning, and the link on every
representation."""

import json

import pytest

from test.random_refs import MISSING_ID, random_name
from test.resources import API, create_application, execute

POOL = {
    "type": "object",
    "required": ["pool_size"],
    "properties": {"pool_size": {"type": "integer", "minimum": 1}},
}


def link(schema: dict, revision: int | None = None) -> dict[str, str]:
    target = f"{API}/configurations/{schema['id']}" + (f"?revision={revision}" if revision else "")
    return {"Link": f'<{target}>; rel="describedby"'}


def described_by(response) -> str | None:
    """The describedby target of a response's Link header, or None."""
    for value in response.headers.get("link", "").split(", "):
        if value.endswith('rel="describedby"'):
            return value.partition(">")[0].removeprefix("<")
    return None


def post(client, application, config, headers=None, **query):
    body = {"application_id": application["id"], "name": random_name("cfg"), "config": config}
    return client.post(f"{API}/configurations", json=body, headers=headers or {}, params=query)


def put(client, configuration, config, headers=None, **query):
    body = {"name": configuration["name"], "config": config}
    path = f"{API}/configurations/{configuration['id']}"
    return client.put(path, json=body, headers=headers or {}, params=query)


@pytest.fixture
def application(client):
    return create_application(client)


@pytest.fixture
def schema(client, application):
    response = post(client, application, POOL)
    assert response.status_code == 201, response.text
    return response.json()


def history(client, configuration) -> list[dict]:
    response = client.get(f"{API}/configurations/{configuration['id']}", params={"history": ""})
    assert response.status_code == 200
    return response.json()


def test_attached_on_post_the_link_comes_back_on_every_representation(client, application, schema):
    created = post(client, application, {"pool_size": 4}, link(schema))
    assert created.status_code == 201, created.text
    path = f"{API}/configurations/{created.json()['id']}"
    assert described_by(created) == f"{API}/configurations/{schema['id']}"
    for response in (
        client.get(path),
        client.head(path),
        put(client, created.json(), {"pool_size": 5}),
    ):
        assert response.status_code == 200
        assert described_by(response) == f"{API}/configurations/{schema['id']}"
    watch = client.get(path, headers={"If-None-Match": '"other"', "Prefer": "wait=1"})
    assert described_by(watch) == f"{API}/configurations/{schema['id']}"


def test_an_invalid_body_is_422_with_every_error_and_nothing_is_stored(client, application, schema):
    refused = post(client, application, {"pool_size": 0, "other": 1}, link(schema))
    assert refused.status_code == 422, refused.text
    errors = refused.json()["errors"]
    assert {
        "loc": ["body", "config", "pool_size"],
        "msg": "must be >= 1",
        "keyword": "minimum",
    } in errors
    missing = post(client, application, {"size": 1}, link(schema))
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["keyword"] == "required"
    listed = client.get(f"{API}/applications/{application['id']}").json()
    assert listed["configuration_ids"] == [schema["id"]]  # neither was created


def test_a_put_is_validated_and_a_refused_one_changes_nothing(client, application, schema):
    configuration = post(client, application, {"pool_size": 4}, link(schema)).json()
    before = client.get(f"{API}/configurations/{configuration['id']}")
    refused = put(client, configuration, {"pool_size": "ten"})
    assert refused.status_code == 422
    after = client.get(
        f"{API}/configurations/{configuration['id']}", headers={"Cache-Control": "no-cache"}
    )
    assert (after.content, after.headers["etag"], after.headers["revision"]) == (
        before.content,
        before.headers["etag"],
        before.headers["revision"],
    )


def test_attach_change_and_detach_on_put_are_revisions_in_history(client, application, schema):
    configuration = post(client, application, {"pool_size": 4}).json()
    assert described_by(client.get(f"{API}/configurations/{configuration['id']}")) is None
    attached = put(client, configuration, {"pool_size": 4}, link(schema))
    assert attached.status_code == 200 and attached.headers["revision"] == "2"
    assert attached.headers["etag"] != f'"{configuration}"'
    pinned = put(client, configuration, {"pool_size": 4}, link(schema, 1))
    assert described_by(pinned) == f"{API}/configurations/{schema['id']}?revision=1"
    kept = put(client, configuration, {"pool_size": 6})  # no link: the attachment stays
    assert described_by(kept) == f"{API}/configurations/{schema['id']}?revision=1"
    detached = put(client, configuration, {"pool_size": 6}, {"Link": '<>; rel="describedby"'})
    assert detached.status_code == 200 and described_by(detached) is None
    entries = history(client, configuration)
    assert [entry["revision"] for entry in entries] == [5, 4, 3, 2, 1]
    assert [entry["describedby"] for entry in entries] == [
        None,
        f"{API}/configurations/{schema['id']}?revision=1",
        f"{API}/configurations/{schema['id']}?revision=1",
        f"{API}/configurations/{schema['id']}",
        None,
    ]
    old = client.get(f"{API}/configurations/{configuration['id']}", params={"revision": 2})
    assert described_by(old) == f"{API}/configurations/{schema['id']}"
    assert old.headers["etag"] == attached.headers["etag"]


def test_attaching_validates_the_current_body(client, application, schema):
    configuration = post(client, application, {"size": 4}).json()
    refused = put(client, configuration, {"size": 4}, link(schema))
    assert refused.status_code == 422
    assert described_by(client.get(f"{API}/configurations/{configuration['id']}")) is None


@pytest.mark.parametrize("target", ["missing", "self", "loop", "elsewhere", "no revision"])
def test_refused_link_targets_are_422_on_the_link_header(client, application, schema, target):
    configuration = post(client, application, {"pool_size": 1}, link(schema)).json()
    headers = {
        "missing": link({"id": MISSING_ID}),
        "self": link(configuration),
        "loop": link(configuration),  # sent on the schema's own PUT below
        "elsewhere": {"Link": '<https://example.com/other/x>; rel="describedby"'},
        "no revision": link(schema, 99),
    }[target]
    victim = schema if target == "loop" else configuration
    config = POOL if target == "loop" else {"pool_size": 1}
    refused = put(client, victim, config, headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["loc"] == ["header", "link"]


def test_out_of_scope_and_missing_schemas_are_the_same_422(database_url, tmp_path):
    from fastapi.testclient import TestClient

    from config_service.main import create_app
    from conftest import make_settings
    from test.tokens import FileToken, write_tokens_file

    team = random_name("team")
    admin = FileToken("admin", "write", ("*",))
    scoped = FileToken("scoped", "write", (f"{team}-*",))
    path = write_tokens_file(tmp_path / "tokens.toml", admin, scoped)
    with TestClient(create_app(make_settings(database_url, api_tokens_file=path))) as client:

        def application(name):
            return client.post(
                f"{API}/applications", json={"name": name}, headers=admin.headers
            ).json()

        mine, theirs = application(f"{team}-api"), application(random_name("other"))
        hidden = post(client, theirs, POOL, admin.headers).json()
        out_of_scope = post(client, mine, {"pool_size": 1}, {**scoped.headers, **link(hidden)})
        missing = post(
            client, mine, {"pool_size": 1}, {**scoped.headers, **link({"id": MISSING_ID})}
        )
        assert out_of_scope.status_code == missing.status_code == 422
        assert out_of_scope.json()["detail"] == missing.json()["detail"]
        assert out_of_scope.json()["errors"] == missing.json()["errors"]


def test_a_schema_change_that_breaks_an_unpinned_follower_is_409_naming_it(
    client, application, schema
):
    follower = post(client, application, {"pool_size": 2}, link(schema)).json()
    stricter = {**POOL, "properties": {"pool_size": {"type": "integer", "minimum": 3}}}
    refused = put(client, schema, stricter)
    assert refused.status_code == 409, refused.text
    assert follower["id"] in refused.json()["detail"]
    assert refused.json()["errors"][0]["loc"][:2] == ["configurations", follower["id"]]
    unchanged = client.get(
        f"{API}/configurations/{schema['id']}", headers={"Cache-Control": "no-cache"}
    )
    assert unchanged.json()["config"] == POOL


def test_a_relaxed_schema_is_followed_at_once(client, application, schema):
    follower = post(client, application, {"pool_size": 2}, link(schema)).json()
    assert put(client, follower, {"pool_size": 0}).status_code == 422  # this worker knows it now
    relaxed = {**POOL, "properties": {"pool_size": {"type": "integer", "minimum": 0}}}
    assert put(client, schema, relaxed).status_code == 200
    assert put(client, follower, {"pool_size": 0}).status_code == 200


def test_pinned_followers_do_not_hold_a_schema_back_and_are_checked_against_their_pin(
    client, application, schema
):
    follower = post(client, application, {"pool_size": 2}, link(schema, 1)).json()
    stricter = {**POOL, "properties": {"pool_size": {"type": "integer", "minimum": 3}}}
    assert put(client, schema, stricter).status_code == 200
    # Pinned to revision 1 (minimum 1): 2 is still fine, 0 is not.
    assert put(client, follower, {"pool_size": 2}).status_code == 200
    assert put(client, follower, {"pool_size": 0}).status_code == 422
    # Following the new revision, 2 is refused.
    assert put(client, follower, {"pool_size": 2}, link(schema)).status_code == 422


def test_a_schema_with_followers_must_stay_a_supported_schema(client, application, schema):
    post(client, application, {"pool_size": 2}, link(schema, 1))
    refused = put(client, schema, {**POOL, "foo": 1})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"][:3] == ["body", "config", "foo"]


def test_a_change_in_psql_is_not_checked_and_the_next_api_write_is(
    client, database_url, application, schema
):
    configuration = post(client, application, {"pool_size": 2}, link(schema)).json()
    execute(
        database_url,
        "UPDATE configurations SET config = '{\"pool_size\": 0}' WHERE id = %s",
        (configuration["id"],),
    )
    assert put(client, configuration, {"pool_size": 0}).status_code == 422


# --- ?dry_run -------------------------------------------------------------------------------


def state(database_url: str) -> tuple:
    """Everything a write could change: rows of every table the API writes."""
    import psycopg2

    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor:
            counts = []
            for table in (
                "applications",
                "configurations",
                "configuration_revisions",
                "configuration_schemas",
            ):
                cursor.execute(
                    f"SELECT md5(string_agg(t::text, '' ORDER BY t::text)) FROM {table} t"
                )
                counts.append(cursor.fetchone()[0])
            return tuple(counts)
    finally:
        connection.close()


def revisions_recorded(client) -> float:
    from test.prometheus import read_samples

    samples = read_samples(client.get("/metrics").content)
    return sum(
        value
        for (name, _), value in samples.items()
        if name == "config_service_configuration_revisions_recorded_total"
    )


def test_dry_run_answers_as_the_write_would_and_changes_nothing(
    client, database_url, application, schema
):
    configuration = post(client, application, {"pool_size": 2}, link(schema)).json()
    before, counted = state(database_url), revisions_recorded(client)
    tried = put(client, configuration, {"pool_size": 3}, dry_run="")
    assert tried.status_code == 200 and tried.json()["config"] == {"pool_size": 3}
    assert tried.headers["revision"] == "2"
    created = post(client, application, {"pool_size": 3}, link(schema), dry_run="true")
    assert created.status_code == 201 and described_by(created)
    assert state(database_url) == before
    assert revisions_recorded(client) == counted
    real = put(client, configuration, {"pool_size": 3})
    assert (real.headers["etag"], real.headers["revision"]) == (tried.headers["etag"], "2")
    assert revisions_recorded(client) == counted + 1  # the count is read, and a real write counts


@pytest.mark.parametrize(
    "case, expected",
    [("invalid", 422), ("taken", 409), ("stale", 412), ("missing", 404), ("breaks", 409)],
)
def test_dry_run_refuses_what_the_write_would(
    client, database_url, application, schema, case, expected
):
    configuration = post(client, application, {"pool_size": 2}, link(schema)).json()
    stricter = {**POOL, "properties": {"pool_size": {"type": "integer", "minimum": 3}}}
    before = state(database_url)
    response = {
        "invalid": lambda: put(client, configuration, {"pool_size": 0}, dry_run=""),
        "taken": lambda: client.put(
            f"{API}/configurations/{configuration['id']}",
            json={"name": schema["name"], "config": {"pool_size": 2}},
            params={"dry_run": ""},
        ),
        "stale": lambda: put(
            client, configuration, {"pool_size": 2}, {"If-Match": '"old"'}, dry_run=""
        ),
        "missing": lambda: put(client, {**configuration, "id": MISSING_ID}, {}, dry_run=""),
        "breaks": lambda: put(client, schema, stricter, dry_run=""),
    }[case]()
    assert response.status_code == expected, response.text
    assert state(database_url) == before


def test_dry_run_of_applications_too(client, database_url):
    before = state(database_url)
    created = client.post(
        f"{API}/applications", json={"name": random_name("app")}, params={"dry_run": ""}
    )
    assert created.status_code == 201
    assert state(database_url) == before
    assert client.get(created.headers["location"]).status_code == 404


def test_dry_run_takes_no_other_value(client, application):
    response = post(client, application, {}, dry_run="maybe")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "dry_run"]
    assert json.loads(response.content)["status"] == 422


def test_retention_never_removes_a_schema_revision_something_is_pinned_to(database_url):
    from fastapi.testclient import TestClient

    from config_service.main import create_app
    from conftest import make_settings
    from test.revisions import keeping

    with (
        keeping(database_url, 2),
        TestClient(create_app(make_settings(database_url, revisions_keep=2))) as client,
    ):
        schema = post(client, create_application(client), POOL).json()
        follower = post(client, create_application(client), {"pool_size": 2}, link(schema, 1)).json()
        for minimum in (0, 1, 0, 1):
            changed = {**POOL, "properties": {"pool_size": {"type": "integer", "minimum": minimum}}}
            assert put(client, schema, {**changed, "description": str(minimum)}).status_code == 200
        assert [entry["revision"] for entry in history(client, schema)] == [5, 4, 1]
        assert put(client, follower, {"pool_size": 0}).status_code == 422  # still revision 1's rule

"""Every endpoint against five tokens: global read, global write, scoped read, scoped write, and
another team's scoped write. Out of scope looks exactly like an id nobody has, and a refused
write leaves the database as it was."""

import json
import uuid

import psycopg2
import pytest
from fastapi.testclient import TestClient

from config_service.main import create_app
from conftest import make_settings
from test.random_refs import MISSING_ID
from test.tokens import FileToken, write_tokens_file

API = "/api/v1"
TEAM = f"pay{uuid.uuid4().hex[:8]}"  # this run's team: its applications are TEAM-*
OTHER = f"bil{uuid.uuid4().hex[:8]}"

GLOBAL_READ = FileToken("global-read", "read", ("*",))
GLOBAL_WRITE = FileToken("global-write", "write", ("*",))
SCOPED_READ = FileToken("team-read", "read", (f"{TEAM}-*",))
SCOPED_WRITE = FileToken("team-write", "write", (TEAM, f"{TEAM}-*"))
OTHER_WRITE = FileToken("other-write", "write", (f"{OTHER}-*",))
TOKENS = [GLOBAL_READ, GLOBAL_WRITE, SCOPED_READ, SCOPED_WRITE, OTHER_WRITE]
SEES_TEAM = {GLOBAL_READ, GLOBAL_WRITE, SCOPED_READ, SCOPED_WRITE}
WRITES_TEAM = {GLOBAL_WRITE, SCOPED_WRITE}
# Fillers, so that the tokens file holds 50 entries as a real one might.
FILLERS = [FileToken(f"filler-{n}", "read", (f"filler{n}-*",)) for n in range(45)]


@pytest.fixture(scope="module")
def service(database_url, tmp_path_factory):
    path = tmp_path_factory.mktemp("scope") / "tokens.toml"
    write_tokens_file(path, *TOKENS, *FILLERS)
    with TestClient(create_app(make_settings(database_url, api_tokens_file=path))) as client:
        yield client


@pytest.fixture(scope="module")
def team(service):
    """Two applications of the team (one with a configuration) and one of the other team."""

    def application(name):
        response = service.post(
            f"{API}/applications", json={"name": name}, headers=GLOBAL_WRITE.headers
        )
        assert response.status_code == 201, response.text
        return response.json()

    first, second = application(f"{TEAM}-api"), application(f"{TEAM}-worker")
    other = application(f"{OTHER}-api")
    response = service.post(
        f"{API}/configurations",
        json={"application_id": first["id"], "name": "db", "config": {"password": "x"}},
        headers=GLOBAL_WRITE.headers,
    )
    assert response.status_code == 201
    return {"first": first, "second": second, "other": other, "configuration": response.json()}


def snapshot(database_url) -> list:
    """Every row of both tables, to show that a refused write changed nothing."""
    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT id, name, comments FROM applications ORDER BY id")
        applications = cursor.fetchall()
        cursor.execute(
            "SELECT id, application_id, name, comments, config::text FROM configurations ORDER BY id"
        )
        return applications + cursor.fetchall()


def without_ids(response, *ids) -> dict:
    """A problem body apart from what names the request: request id, and the ids given."""
    text = response.text or "{}"  # HEAD: no body
    for each in ids:
        text = text.replace(each, "<id>")
    body = json.loads(text)
    body.pop("request_id", None)
    return body


def same_response(first, second, *ids) -> None:
    assert first.status_code == second.status_code
    drop = {"x-request-id", "content-length"}
    assert {k: v for k, v in first.headers.items() if k not in drop} == {
        k: v for k, v in second.headers.items() if k not in drop
    }
    assert without_ids(first, *ids) == without_ids(second, *ids)


READS = [
    ("plain", {}),
    ("no-cache", {"Cache-Control": "no-cache"}),
    ("if-none-match *", {"If-None-Match": "*"}),
    ("watch", {"Prefer": "wait=1"}),
]


# Each read by id: its collection, the resource read, and its query.
READ_BY_ID = {
    "first": ("applications", "first", ""),
    "configuration": ("configurations", "configuration", ""),
    "first with its configurations": ("applications", "first", "?include=configurations"),
}


@pytest.mark.parametrize("token", TOKENS, ids=lambda t: t.name)
@pytest.mark.parametrize("resource", list(READ_BY_ID))
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(("variant", "headers"), READS, ids=[r[0] for r in READS])
def test_reads_by_id(service, team, token, resource, method, variant, headers):
    collection, which, query = READ_BY_ID[resource]
    path = f"{API}/{collection}"
    resource_id = team[which]["id"]
    etag = service.get(f"{path}/{resource_id}{query}", headers=GLOBAL_READ.headers).headers["etag"]
    if variant == "watch":  # in scope, a version it is not (answered at once, not held)
        headers = {**headers, "If-None-Match": etag if token not in SEES_TEAM else '"old"'}
    response = service.request(
        method, f"{path}/{resource_id}{query}", headers={**token.headers, **headers}
    )
    if token in SEES_TEAM:
        expected = 304 if headers.get("If-None-Match") == "*" else 200
        assert response.status_code == expected
        assert response.headers["etag"] == etag
    else:
        # The 404 of an id nobody has, with the same headers (Vary included), never held.
        missing = service.request(
            method, f"{path}/{MISSING_ID}{query}", headers={**token.headers, **headers}
        )
        assert response.status_code == 404
        same_response(response, missing, resource_id, MISSING_ID)
        assert "preference-applied" not in response.headers


def listed(service, token, query: str) -> list[str]:
    """Names of every application the token lists, following Link to the end."""
    names, url = [], f"{API}/applications?{query}"
    for _ in range(1000):  # bounded: a Link that never ends fails rather than hangs
        if url is None:
            return names
        response = service.get(url, headers=token.headers)
        assert response.status_code == 200
        names += [application["name"] for application in response.json()]
        link = response.headers.get("link")
        url = link[1 : link.index(">")].removeprefix("http://testserver") if link else None
    pytest.fail("more than 1000 pages")


@pytest.mark.parametrize("token", TOKENS, ids=lambda t: t.name)
def test_lists_hold_only_applications_in_scope_and_page_correctly(service, team, token):
    # Pages of 1 for the scoped tokens (their few applications, page by page); the others page
    # through the whole run's database, so in larger pages.
    scoped = token in (SCOPED_READ, SCOPED_WRITE)
    names = listed(service, token, "limit=1" if scoped else "limit=500")
    team_names = sorted(n for n in names if n.startswith(TEAM))
    if token in SEES_TEAM:
        assert team_names == [f"{TEAM}-api", f"{TEAM}-worker"]
    else:
        assert team_names == []
    if scoped:
        assert names == team_names  # nothing else, and every page of 1 was full until the end
    by_name = service.get(f"{API}/applications?name={TEAM}-api", headers=token.headers).json()
    assert [a["name"] for a in by_name] == ([f"{TEAM}-api"] if token in SEES_TEAM else [])


def refused(service, database_url, token, method, path, body, headers=None):
    before = snapshot(database_url)
    response = service.request(
        method, path, json=body, headers={**token.headers, **(headers or {})}
    )
    assert snapshot(database_url) == before, "a refused write changed the database"
    return response


@pytest.mark.parametrize("token", TOKENS, ids=lambda t: t.name)
def test_creating_applications(service, team, database_url, token):
    for name in (f"{TEAM}-new-{token.name}", f"{TEAM}-api"):  # a new name, a taken one
        if token in WRITES_TEAM:
            response = service.post(
                f"{API}/applications", json={"name": name}, headers=token.headers
            )
            assert response.status_code == (409 if name == f"{TEAM}-api" else 201)
            continue
        response = refused(
            service, database_url, token, "POST", f"{API}/applications", {"name": name}
        )
        assert response.status_code == 403  # read-only, or out of scope: whether taken or not
        if token is OTHER_WRITE:
            assert "outside the token's applications" in response.json()["detail"]


@pytest.mark.parametrize("token", TOKENS, ids=lambda t: t.name)
def test_updating_applications(service, team, database_url, token):
    target = team["second"]
    path = f"{API}/applications/{target['id']}"
    current = service.get(path, headers=GLOBAL_READ.headers)
    body = {"name": current.json()["name"], "comments": f"by {token.name}"}
    if token in WRITES_TEAM:
        if token is SCOPED_WRITE:  # into the other team's names: refused
            away = refused(service, database_url, token, "PUT", path, {"name": f"{OTHER}-stolen"})
            assert away.status_code == 403
            assert "outside the token's applications" in away.json()["detail"]
        etag = service.get(path, headers=token.headers).headers["etag"]
        ok = service.put(path, json=body, headers={**token.headers, "If-Match": etag})
        assert ok.status_code == 200
        return
    stale = {"If-Match": '"stale"'}
    response = refused(service, database_url, token, "PUT", path, body, stale)
    if token is OTHER_WRITE:  # as for an id nobody has, even with a stale If-Match
        missing = refused(
            service, database_url, token, "PUT", f"{API}/applications/{MISSING_ID}", body, stale
        )
        assert response.status_code == 404
        same_response(response, missing, target["id"], MISSING_ID)
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("token", TOKENS, ids=lambda t: t.name)
def test_configuration_writes(service, team, database_url, token):
    application_id = team["first"]["id"]
    body = {"application_id": application_id, "name": f"new-{token.name}", "config": {}}
    configuration = team["configuration"]
    path = f"{API}/configurations/{configuration['id']}"
    update = {"name": "db", "config": {"password": token.name}}
    if token in WRITES_TEAM:
        assert (
            service.post(f"{API}/configurations", json=body, headers=token.headers).status_code
            == 201
        )
        assert service.put(path, json=update, headers=token.headers).status_code == 200
        return
    created = refused(service, database_url, token, "POST", f"{API}/configurations", body)
    stale = {"If-Match": '"stale"'}
    updated = refused(service, database_url, token, "PUT", path, update, stale)
    if token is OTHER_WRITE:
        unknown = {**body, "application_id": MISSING_ID}
        missing = refused(service, database_url, token, "POST", f"{API}/configurations", unknown)
        assert created.status_code == 422
        same_response(created, missing, application_id, MISSING_ID)
        missing = refused(
            service, database_url, token, "PUT", f"{API}/configurations/{MISSING_ID}", update, stale
        )
        assert updated.status_code == 404
        same_response(updated, missing, configuration["id"], MISSING_ID)
        # Without If-Match, scope is decided in the one statement of the PUT (migration 0010).
        blind = refused(service, database_url, token, "PUT", path, update)
        assert blind.status_code == 404
        same_response(blind, missing, configuration["id"], MISSING_ID)
    else:
        assert (created.status_code, updated.status_code) == (403, 403)


def test_out_of_scope_from_memory_is_the_404_of_a_missing_id(service, team):
    path = f"{API}/configurations/{team['configuration']['id']}"
    assert service.get(path, headers=GLOBAL_READ.headers).status_code == 200  # now in memory
    from_memory = service.get(path, headers=OTHER_WRITE.headers)
    from_postgres = service.get(path, headers={**OTHER_WRITE.headers, "Cache-Control": "no-cache"})
    missing = service.get(f"{API}/configurations/{MISSING_ID}", headers=OTHER_WRITE.headers)
    for response in (from_memory, from_postgres):
        same_response(response, missing, team["configuration"]["id"], MISSING_ID)


def test_a_rename_out_of_scope_is_refused_and_within_scope_succeeds(service, team, database_url):
    path = f"{API}/applications/{team['first']['id']}"
    etag = service.get(path, headers=SCOPED_WRITE.headers).headers["etag"]
    away = refused(
        service,
        database_url,
        SCOPED_WRITE,
        "PUT",
        path,
        {"name": "somebody-else"},
        {"If-Match": etag},
    )
    assert away.status_code == 403
    within = service.put(
        path, json={"name": TEAM}, headers={**SCOPED_WRITE.headers, "If-Match": etag}
    )
    assert within.status_code == 200  # `TEAM` is one of its exact names
    assert service.get(path, headers=SCOPED_READ.headers).status_code == 404  # not `TEAM-*`
    back = service.put(path, json={"name": f"{TEAM}-api"}, headers=SCOPED_WRITE.headers)
    assert back.status_code == 200
    assert service.get(path, headers=SCOPED_READ.headers).status_code == 200


def test_metrics_only_for_tokens_of_every_application(service):
    for token in TOKENS:
        expected = 200 if token in (GLOBAL_READ, GLOBAL_WRITE) else 403
        assert service.get("/metrics", headers=token.headers).status_code == expected


@pytest.mark.parametrize("token", TOKENS, ids=lambda t: t.name)
@pytest.mark.parametrize("query", ["revision=1", "history"])
def test_revisions_and_history_are_guarded_as_the_plain_get(service, team, token, query):
    configuration_id = team["configuration"]["id"]
    response = service.get(
        f"{API}/configurations/{configuration_id}?{query}", headers=token.headers
    )
    if token in SEES_TEAM:
        assert response.status_code == 200
    else:
        missing = service.get(f"{API}/configurations/{MISSING_ID}?{query}", headers=token.headers)
        assert response.status_code == 404
        same_response(response, missing, configuration_id, MISSING_ID)


def test_a_change_records_the_name_of_the_token_that_made_it(service, team):
    path = f"{API}/configurations/{team['configuration']['id']}"
    current = service.get(path, headers=SCOPED_WRITE.headers).json()
    body = {**current, "config": {"password": uuid.uuid4().hex}}
    assert service.put(path, json=body, headers=SCOPED_WRITE.headers).status_code == 200
    newest = service.get(f"{path}?history&limit=1", headers=GLOBAL_READ.headers).json()[0]
    assert newest["changed_by"] == "team-write"
    assert SCOPED_WRITE.secret not in json.dumps(newest)

"""Staged rollouts through the API (docs/rollouts.md): a PUT with Config-Rollout starts,
changes, replaces, promotes or aborts a candidate; GETs with Config-Client are served the
candidate by a sticky hash cohort, from memory and from PostgreSQL alike."""

import pytest

from config_service.representation import in_cohort
from test.resources import create_configuration

CLIENTS = [f"runtime-{number}" for number in range(400)]


def put(client, configuration, version, rollout=None, **headers):
    if rollout is not None:
        headers["Config-Rollout"] = rollout
    body = {"name": configuration["name"], "config": {"v": version}}
    return client.put(configuration["path"], json=body, headers=headers)


def views(client, configuration, *, no_cache=False) -> dict[str, int]:
    """The version each of CLIENTS is served."""
    seen = {}
    for name in CLIENTS:
        headers = {"Config-Client": name}
        if no_cache:
            headers["Cache-Control"] = "no-cache"
        response = client.get(configuration["path"], headers=headers)
        assert response.status_code == 200, response.text
        seen[name] = response.json()["config"]["v"]
    return seen


def cohort(configuration, percent) -> set[str]:
    return {name for name in CLIENTS if in_cohort(configuration["id"], name, percent)}


def served(seen: dict[str, int], version: int) -> set[str]:
    return {name for name, v in seen.items() if v == version}


def history(client, configuration) -> list[dict]:
    response = client.get(configuration["path"], params={"history": ""})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def configuration(client):
    return create_configuration(client)


def test_a_candidate_goes_to_its_cohort_and_everyone_else_keeps_the_current(client, configuration):
    started = put(client, configuration, 1, "20")
    assert started.status_code == 200, started.text
    assert started.json()["config"] == {"v": 1}  # the candidate's representation
    assert started.headers["revision"] == "2"
    assert started.headers["config-rollout"] == "20;revision=2"
    for no_cache in (False, True):
        seen = views(client, configuration, no_cache=no_cache)
        assert served(seen, 1) == cohort(configuration, 20)
        assert served(seen, 0) == set(CLIENTS) - cohort(configuration, 20)
    plain = client.get(configuration["path"])
    assert plain.json()["config"] == {"v": 0}  # no Config-Client: the current version
    assert plain.headers["revision"] == "1"
    assert plain.headers["config-rollout"] == "20;revision=2"
    assert "Config-Client" in plain.headers["vary"]
    inside = next(iter(cohort(configuration, 20)))
    candidate = client.get(configuration["path"], headers={"Config-Client": inside})
    assert candidate.headers["revision"] == "2"
    assert candidate.headers["etag"] == started.headers["etag"]
    assert client.get(configuration["path"], params={"revision": "2"}).json()["config"] == {"v": 1}


def test_raising_keeps_everyone_in_and_lowering_only_moves_clients_out(client, configuration):
    assert put(client, configuration, 1, "10").status_code == 200
    at_ten = served(views(client, configuration), 1)
    raised = put(client, configuration, 1, "50")
    assert raised.status_code == 200, raised.text
    assert raised.headers["revision"] == "2"  # the same candidate
    assert raised.headers["config-rollout"] == "50;revision=2"
    at_fifty = served(views(client, configuration), 1)
    assert at_ten < at_fifty and at_fifty == cohort(configuration, 50)
    assert put(client, configuration, 1, "5").status_code == 200
    at_five = served(views(client, configuration, no_cache=True), 1)
    assert at_five <= at_ten and at_five == cohort(configuration, 5)


def test_another_body_replaces_the_candidate_with_a_new_revision(client, configuration):
    assert put(client, configuration, 1, "30").status_code == 200
    replaced = put(client, configuration, 2, "30")
    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["revision"] == "3"
    assert replaced.headers["config-rollout"] == "30;revision=3"
    seen = views(client, configuration)
    assert served(seen, 2) == cohort(configuration, 30)  # the same cohort, the new candidate
    assert served(seen, 1) == set()


def test_promotion_serves_the_candidate_to_everyone_with_its_etag_and_revision(
    client, configuration
):
    started = put(client, configuration, 1, "10")
    promoted = put(client, configuration, 1, "100")
    assert promoted.status_code == 200, promoted.text
    assert promoted.headers["etag"] == started.headers["etag"]
    assert promoted.headers["revision"] == "2"
    assert "config-rollout" not in promoted.headers
    assert set(views(client, configuration).values()) == {1}
    plain = client.get(configuration["path"])
    assert (plain.headers["revision"], plain.headers["etag"]) == ("2", started.headers["etag"])
    assert [entry["revision"] for entry in history(client, configuration)] == [2, 1]
    assert put(client, configuration, 2).status_code == 200  # no rollout: a PUT as before
    assert client.get(configuration["path"]).headers["revision"] == "3"


def test_abort_serves_the_current_version_to_everyone_and_keeps_the_revision(client, configuration):
    put(client, configuration, 1, "50")
    aborted = put(client, configuration, 1, "0")
    assert aborted.status_code == 200, aborted.text
    assert aborted.json()["config"] == {"v": 0}
    assert aborted.headers["revision"] == "1"
    assert "config-rollout" not in aborted.headers
    assert set(views(client, configuration).values()) == {0}
    assert client.get(configuration["path"], params={"revision": "2"}).status_code == 200
    after = put(client, configuration, 3)
    assert after.status_code == 200, after.text
    assert after.headers["revision"] == "3"  # numbers are never reused


def test_a_put_without_config_rollout_during_a_rollout_is_409_and_changes_nothing(
    client, configuration
):
    started = put(client, configuration, 1, "10")
    for headers in ({}, {"If-Match": started.headers["etag"]}, {"If-Match": '"nope"'}):
        refused = put(client, configuration, 7, **headers)
        assert refused.status_code == 409, refused.text
        assert "Config-Rollout: 100" in refused.json()["detail"]
    assert client.get(configuration["path"]).json()["config"] == {"v": 0}
    assert [entry["revision"] for entry in history(client, configuration)] == [2, 1]


@pytest.mark.parametrize("rollout", ["0", "100"])
def test_ending_a_rollout_when_none_runs_is_409(client, configuration, rollout):
    assert put(client, configuration, 0, rollout).status_code == 409


def test_promoting_with_another_body_than_the_candidate_is_409(client, configuration):
    put(client, configuration, 1, "10")
    assert put(client, configuration, 2, "100").status_code == 409


def test_if_match_names_the_candidate_while_one_runs(client, configuration):
    started = put(client, configuration, 1, "10")
    assert (
        put(
            client,
            configuration,
            1,
            "20",
            **{"If-Match": configuration_etag(client, configuration)},
        ).status_code
        == 412
    )
    assert (
        put(client, configuration, 1, "20", **{"If-Match": started.headers["etag"]}).status_code
        == 200
    )


def configuration_etag(client, configuration) -> str:
    return client.get(configuration["path"]).headers["etag"]


def test_a_dry_run_changes_nothing(client, configuration):
    tried = client.put(
        configuration["path"],
        json={"name": configuration["name"], "config": {"v": 1}},
        headers={"Config-Rollout": "10"},
        params={"dry_run": ""},
    )
    assert tried.status_code == 200, tried.text
    assert tried.headers["config-rollout"] == "10;revision=2"
    assert "config-rollout" not in client.get(configuration["path"]).headers
    assert put(client, configuration, 1, "100").status_code == 409  # none runs


@pytest.mark.parametrize(
    "value",
    ["", "ten", "101", "-1", "1.5", "10;step=20", "10;every=5", "10;step=0;every=5",
     "10;step=101;every=5", "10;step=10;every=0", "10;step=10;every=86401", "10;max-failures=0",
     "10;colour=1", "10;step", "10, 20", "100;max-failures=3", "10;Step=5;every=5"],
)  # fmt: skip
def test_a_malformed_config_rollout_is_422_on_the_header(client, configuration, value):
    refused = put(client, configuration, 1, value)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["loc"] == ["header", "config-rollout"]


def test_a_rollout_on_a_first_post_is_422(client, configuration):
    body = {"application_id": configuration["application_id"], "name": "x", "config": {}}
    refused = client.post("/api/v1/configurations", json=body, headers={"Config-Rollout": "10"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["header", "config-rollout"]


@pytest.mark.parametrize("value", ["", "a b", "x" * 129, "é"])
def test_a_malformed_config_client_is_422_on_the_header(client, configuration, value):
    refused = client.get(configuration["path"], headers={"Config-Client": value.encode()})
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["loc"] == ["header", "config-client"]


def test_retention_keeps_the_current_revision_and_the_running_candidate(database_url):
    from fastapi.testclient import TestClient

    from config_service.main import create_app
    from conftest import make_settings
    from test.revisions import keeping

    with (
        keeping(database_url, 1),
        TestClient(create_app(make_settings(database_url, revisions_keep=1))) as client,
    ):
        configuration = create_configuration(client)
        put(client, configuration, 1, "10")  # revision 2, a candidate
        put(client, configuration, 2, "10")  # revision 3 replaces it
        assert client.get(configuration["path"], params={"revision": "1"}).status_code == 200
        assert client.get(configuration["path"], params={"revision": "3"}).status_code == 200
        assert client.get(configuration["path"], params={"revision": "2"}).status_code == 410
        assert client.get(configuration["path"]).headers["revision"] == "1"


def test_a_candidate_is_validated_against_the_schema(client, configuration):
    schema_body = {
        "application_id": configuration["application_id"],
        "name": "schema-of-rollouts",
        "config": {"type": "object", "properties": {"v": {"type": "integer", "maximum": 5}}},
    }
    schema = client.post("/api/v1/configurations", json=schema_body).json()
    link = f'</api/v1/configurations/{schema["id"]}>; rel="describedby"'
    attached = client.put(
        configuration["path"],
        json={"name": configuration["name"], "config": {"v": 0}},
        headers={"Link": link},
    )
    assert attached.status_code == 200, attached.text
    assert put(client, configuration, 9, "10").status_code == 422
    assert "config-rollout" not in client.get(configuration["path"]).headers
    started = put(client, configuration, 4, "10")
    assert started.status_code == 200, started.text
    assert started.headers["link"].endswith('rel="describedby"')


def test_the_history_tells_each_candidates_rollout(client, configuration):
    put(client, configuration, 1, "10")
    put(client, configuration, 2, "30")  # replaces revision 2 with 3
    entries = {entry["revision"]: entry["rollout"] for entry in history(client, configuration)}
    assert entries[1] is None
    assert entries[2]["state"] == "replaced" and entries[2]["ended_at"] is not None
    assert entries[3] == {
        "state": "running", "percent": 30, "ended_at": None, "ended_by": None, "rejections": 0,
        "rejected_by": [],
    }  # fmt: skip
    put(client, configuration, 2, "0")
    aborted = history(client, configuration)[0]["rollout"]
    assert (aborted["state"], aborted["percent"]) == ("aborted", 30)
    put(client, configuration, 4, "40")
    put(client, configuration, 4, "100")
    promoted = history(client, configuration)[0]
    assert (promoted["revision"], promoted["rollout"]["state"]) == (4, "promoted")
    assert promoted["rollout"]["percent"] == 100


def test_rollout_changes_are_counted(client, configuration):
    def changes(change: str) -> float:
        for line in client.get("/metrics").text.splitlines():
            if line.startswith(f'config_service_rollout_changes_total{{change="{change}"}}'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = {change: changes(change) for change in ("started", "changed", "aborted")}
    put(client, configuration, 1, "10")
    put(client, configuration, 1, "20")
    put(client, configuration, 1, "0")
    assert {change: changes(change) - before[change] for change in before} == {
        "started": 1, "changed": 1, "aborted": 1
    }  # fmt: skip


def test_the_request_log_of_a_rollout_change_carries_its_percentage(client, configuration, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="config_service.requests"):
        put(client, configuration, 1, "15")
    logged = [r.fields for r in caplog.records if getattr(r, "fields", {}).get("method") == "PUT"]
    assert (logged[-1]["rollout"], logged[-1]["revision"]) == (15, 2)


def report(client, configuration, revision, who, method="HEAD"):
    headers = {"Config-Rejected": str(revision), "Config-Client": who}
    return client.request(method, configuration["path"], headers=headers)


def test_enough_distinct_clients_rejecting_abort_the_rollout_automatically(client, configuration):
    started = put(client, configuration, 1, "50;max-failures=3")
    revision = int(started.headers["revision"])
    inside = sorted(cohort(configuration, 50))
    outside = sorted(set(CLIENTS) - cohort(configuration, 50))
    assert report(client, configuration, revision, inside[0]).status_code == 200
    assert report(client, configuration, revision, inside[0], "GET").status_code == 200  # again
    assert report(client, configuration, revision, inside[1]).status_code == 200
    assert report(client, configuration, revision, outside[0]).status_code == 200  # ignored
    assert report(client, configuration, revision - 1, inside[2]).status_code == 200  # ignored
    assert report(client, configuration, revision + 1, inside[2]).status_code == 200  # ignored
    running = history(client, configuration)[0]["rollout"]
    assert (running["state"], running["rejections"]) == ("running", 2)
    assert view_of(client, configuration, inside[3]) == 1
    answered = report(client, configuration, revision, inside[2], "GET")
    assert answered.json()["config"] == {"v": 0}  # its own answer: the current version
    aborted = history(client, configuration)[0]["rollout"]
    assert (aborted["state"], aborted["ended_by"], aborted["rejections"]) == (
        "aborted", "automatic", 3
    )  # fmt: skip
    assert aborted["rejected_by"] == inside[:3]
    assert set(views(client, configuration).values()) == {0}


def test_without_max_failures_nothing_aborts_by_itself(client, configuration):
    started = put(client, configuration, 1, "50")
    for who in sorted(cohort(configuration, 50))[:5]:
        report(client, configuration, int(started.headers["revision"]), who)
    assert history(client, configuration)[0]["rollout"]["state"] == "running"


def view_of(client, configuration, who) -> int:
    return client.get(configuration["path"], headers={"Config-Client": who}).json()["config"]["v"]


@pytest.mark.parametrize(
    "headers",
    [{"Config-Rejected": "two", "Config-Client": "k"}, {"Config-Rejected": "0", "Config-Client": "k"},
     {"Config-Rejected": "-1", "Config-Client": "k"}, {"Config-Rejected": "2"}],
)  # fmt: skip
def test_a_malformed_or_anonymous_config_rejected_is_422(client, configuration, headers):
    refused = client.get(configuration["path"], headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["loc"] == ["header", "config-rejected"]


def test_a_schedule_steps_up_to_100_and_promotes(client, configuration):
    """step=25;every=1 from 10%: 35, 60, 85, then 100 (promoted), about 4 s after the PUT."""
    import time

    started = put(client, configuration, 1, "10;step=25;every=1")
    assert started.headers["config-rollout"] == "10;revision=2"
    seen = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        answer = client.get(configuration["path"])
        seen.append(answer.headers.get("config-rollout"))
        if seen[-1] is None:
            break
        time.sleep(0.1)
    assert seen[-1] is None, seen  # promoted
    percents = [int(header.partition(";")[0]) for header in dict.fromkeys(seen) if header]
    assert percents == [10, 35, 60, 85]
    promoted = client.get(configuration["path"])
    assert (promoted.headers["revision"], promoted.headers["etag"]) == (
        "2", started.headers["etag"]
    )  # fmt: skip
    entry = history(client, configuration)[0]["rollout"]
    assert (entry["state"], entry["ended_by"]) == ("promoted", "automatic")


def test_a_percentage_without_step_pauses_the_schedule(client, configuration):
    import time

    put(client, configuration, 1, "10;step=25;every=1")
    put(client, configuration, 1, "20")
    time.sleep(2.5)
    assert client.get(configuration["path"]).headers["config-rollout"] == "20;revision=2"


def test_reports_and_rollout_changes_out_of_scope_change_nothing(database_url, tmp_path):
    """A report needs read scope, as the GET it rides on (404, not counted); a rollout PUT
    needs write scope, as any PUT."""
    from fastapi.testclient import TestClient

    from config_service.main import create_app
    from conftest import make_settings
    from test.random_refs import random_name
    from test.tokens import FileToken, write_tokens_file

    mine = random_name("mine")
    admin = FileToken("admin", "write", ("*",))
    outsider = FileToken("outsider", "write", (f"{mine}-other",))
    path = write_tokens_file(tmp_path / "tokens.toml", admin, outsider)
    with TestClient(create_app(make_settings(database_url, api_tokens_file=path))) as scoped:
        scoped.headers.update(admin.headers)
        created = scoped.post("/api/v1/applications", json={"name": mine}).json()
        configuration = create_configuration(scoped, created)
        started = put(scoped, configuration, 1, "50;max-failures=1")
        inside = sorted(cohort(configuration, 50))[0]
        headers = {**outsider.headers, "Config-Client": inside, "Config-Rejected": "2"}
        assert scoped.head(configuration["path"], headers=headers).status_code == 404
        body = {"name": configuration["name"], "config": {"v": 1}}
        for rollout in ("0", "100", "70"):
            refused = scoped.put(
                configuration["path"],
                json=body,
                headers={**outsider.headers, "Config-Rollout": rollout},
            )
            assert refused.status_code == 404, refused.text
        entry = history(scoped, configuration)[0]["rollout"]
        assert (entry["state"], entry["percent"], entry["rejections"]) == ("running", 50, 0)
        assert started.status_code == 200


def test_an_application_read_whole_serves_each_client_its_cohorts_candidates(client):
    from test.resources import create_application

    application = create_application(client)
    first = create_configuration(client, application)
    second = create_configuration(client, application)
    whole = f"{application['path']}?include=configurations"

    def items(who=None) -> tuple[dict, str]:
        answer = client.get(whole, headers={"Config-Client": who} if who else {})
        assert answer.status_code == 200, answer.text
        configs = {item["id"]: item["config"]["v"] for item in answer.json()["configurations"]}
        return configs, answer.headers["etag"]

    put(client, first, 1, "50")
    inside = sorted(cohort(first, 50))[0]
    outside = sorted(set(CLIENTS) - cohort(first, 50))[0]
    assert items(inside)[0] == {first["id"]: 1, second["id"]: 0}
    assert items(outside)[0] == {first["id"]: 0, second["id"]: 0}
    assert items()[0] == {first["id"]: 0, second["id"]: 0}
    assert items(inside)[1] != items(outside)[1] == items()[1]
    own = client.get(first["path"], headers={"Config-Client": inside}).content
    assert own.decode() in client.get(whole, headers={"Config-Client": inside}).text
    put(client, first, 1, "0")
    assert items(inside)[0] == {first["id"]: 0, second["id"]: 0}


def test_the_running_rollouts_gauge_follows_the_database(client, configuration):
    from test.waiting import until

    def gauge() -> float:
        for line in client.get("/metrics").text.splitlines():
            if line.startswith("config_service_rollouts_running{"):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    put(client, configuration, 1, "10")
    until(lambda: gauge() >= 1, 12, "a running rollout counted")

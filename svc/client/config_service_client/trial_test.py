"""Trying a plan with ?dry_run, against a stand-in answering as the service would."""

import httpx
import pytest

from config_service_client import trial
from config_service_client.apply import Change, Plan
from config_service_client.directory import Desired

REFUSAL = {
    "status": 422,
    "detail": "config does not satisfy its schema",
    "errors": [{"loc": ["body", "config", "size"], "msg": "must be >= 1", "keyword": "minimum"}],
}


def plan_of(*changes: Change, new_application: bool = False) -> Plan:
    ids = {"shop": None if new_application else "A1"}
    return Plan(list(changes), 0, [], ids, {("shop", "schema"): "S1"})


def client(status: int, seen: list) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(200, json={}, headers={"ETag": '"e"'})
        return httpx.Response(status, json=REFUSAL if status == 422 else {})

    return httpx.Client(base_url="http://s/api/v1", transport=httpx.MockTransport(answer))


CREATE = Change(Desired("shop", "db", {"size": 0}, None, ("shop", "schema")), None, [])
UPDATE = Change(Desired("shop", "db", {"size": 0}, None), {"id": "C1", "comments": "c"}, [])


def test_a_refused_change_is_named_by_file_with_each_errors_place():
    seen = []
    with client(422, seen) as http:
        [refusal] = trial.refusals(http, plan_of(CREATE))
    assert str(refusal) == (
        "shop/db.json would be refused (422): config does not satisfy its schema\n"
        "    body/config/size: must be >= 1 [minimum]"
    )
    [post] = seen
    assert post.url.params["dry_run"] == "" and post.headers["Link"] == (
        '</api/v1/configurations/S1>; rel="describedby"'
    )


def test_an_update_is_tried_with_the_etag_it_would_send():
    seen = []
    with client(200, seen) as http:
        assert trial.refusals(http, plan_of(UPDATE)) == []
    put = seen[-1]
    assert (put.method, put.headers["If-Match"], put.url.params["dry_run"]) == ("PUT", '"e"', "")


def test_a_token_that_may_not_write_cannot_try():
    with client(403, []) as http, pytest.raises(trial.NotTried):
        trial.refusals(http, plan_of(UPDATE))


def test_a_configuration_of_a_new_application_is_not_tried():
    seen = []
    with client(422, seen) as http:
        assert trial.refusals(http, plan_of(CREATE, new_application=True)) == []
    assert seen == []

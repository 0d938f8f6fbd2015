"""The schemas phase's data, against the real service: what it seeds is what the API accepts."""

import httpx
import pytest
from fastapi.testclient import TestClient

from bench import schemas
from config_service.main import create_app
from conftest import make_settings


@pytest.fixture(scope="module")
def http(database_url):
    with TestClient(create_app(make_settings(database_url))) as client:
        yield client


def test_the_forty_property_schema_accepts_the_documents_it_is_measured_with(http):
    schema_id, attached = schemas.seed(http, "bench-test", 3)
    assert len(attached) == 3 and len(attached[0]["config"]) == schemas.PROPERTIES
    put = http.put(
        f"/api/v1/configurations/{attached[0]['id']}",
        json={"name": attached[0]["name"], "config": {**schemas.document(), "setting_3": -1}},
    )
    assert put.status_code == 422  # the schema is enforced on what the bench PUTs


def test_the_verdict_is_timed_for_a_refusal_and_an_acceptance(http, monkeypatch):
    monkeypatch.setattr(schemas, "FOLLOWERS", 5)
    seconds = schemas.verdict_seconds(http)
    assert set(seconds) == {409, 200} and all(value > 0 for value in seconds.values())


def test_verdict_seconds_says_when_the_answer_is_not_the_expected_one(http, monkeypatch):
    monkeypatch.setattr(schemas, "FOLLOWERS", 1)  # one follower, setting_0 = 0: 999 breaks it
    monkeypatch.setattr(schemas, "forty_property_schema", lambda minimum=0: {"type": "object"})
    with pytest.raises(RuntimeError, match="expected 409"):
        schemas.verdict_seconds(http)
    assert isinstance(http, httpx.Client)

"""`config-service apply` against a real 2-worker server: idempotent, If-Match, drift, --check."""

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from config_service_client import apply as applying
from config_service_client.cli import main

from test.prometheus import read_samples
from test.random_refs import random_name
from test.workers import TIMEOUT

REQUESTS = "config_service_http_requests_total"


@pytest.fixture(scope="module")
def server(two_worker_server):
    return two_worker_server


@pytest.fixture
def http(server):
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=TIMEOUT) as client:
        yield client


def writes(server) -> float:
    """POSTs and PUTs the whole service has answered (any worker's scrape counts them all)."""
    samples = read_samples(httpx.get(f"{server.url}/metrics", timeout=TIMEOUT).content)
    return sum(
        value
        for (name, labels), value in samples.items()
        if name == REQUESTS and dict(labels)["method"] in ("POST", "PUT")
    )


def write_tree(root: Path, tree: dict[str, dict[str, dict]]) -> Path:
    for application, configurations in tree.items():
        (root / application).mkdir(parents=True, exist_ok=True)
        for name, config in configurations.items():
            (root / application / f"{name}.json").write_text(json.dumps(config))
    return root


def apply(server, directory: Path, *options: str) -> int:
    return main(["--url", server.url, "apply", str(directory), *options])


def bodies(http, application: str) -> list[dict]:
    found = http.get("/applications", params={"name": application}).json()[0]
    return [http.get(f"/configurations/{id}").json() for id in found["configuration_ids"]]


def current(http, application: str, name: str) -> dict:
    return next(body for body in bodies(http, application) if body["name"] == name)


def test_apply_twice_writes_nothing_the_second_time(server, http, tmp_path, capsys):
    one, two = random_name("app"), random_name("app")
    tree = {one: {"a": {"x": 1}, "b": {"y": [1, 2]}}, two: {"c": {}}}
    directory = write_tree(tmp_path, tree)
    (directory / one / "a.comments.txt").write_text("owned by CI\n")
    before = writes(server)
    assert apply(server, directory) == 0
    assert writes(server) - before == 5  # two applications, three configurations
    assert current(http, one, "a") | {"id": None} == {
        "id": None,
        "application_id": current(http, one, "a")["application_id"],
        "name": "a",
        "comments": "owned by CI",
        "config": {"x": 1},
    }
    capsys.readouterr()

    before = writes(server)
    assert apply(server, directory) == 0
    assert writes(server) == before
    assert capsys.readouterr().out == "0 changed, 3 unchanged, 0 drift\n"


def test_dry_run_and_check_change_nothing_and_report_exactly_the_differences(
    server, http, tmp_path, capsys
):
    name = random_name("app")
    old = {"keep": 1, "change": "old", "gone": True, "list": [1, 2], "deep": {"a": 1}}
    assert apply(server, write_tree(tmp_path / "old", {name: {"c": old, "same": {}}})) == 0
    other = http.post(
        "/configurations",
        json={
            "application_id": current(http, name, "c")["application_id"],
            "name": "extra",
            "config": {},
        },
    )
    assert other.status_code == 201
    new = {"keep": 1, "change": "new", "list": [1], "deep": {"a": 1, "b": None}, "on": 1}
    directory = write_tree(tmp_path / "new", {name: {"c": new, "same": {}, "fresh": {"k": "v"}}})
    capsys.readouterr()
    before = writes(server)

    assert apply(server, directory, "--dry-run") == 0
    report = capsys.readouterr().out
    assert apply(server, directory, "--check") == 3
    assert capsys.readouterr().out == report
    assert apply(server, directory, "--check", "--dry-run") == 3
    capsys.readouterr()
    assert current(http, name, "c")["config"] == old  # tried with ?dry_run, never written
    assert "fresh" not in {body["name"] for body in bodies(http, name)}
    assert writes(server) > before  # the dry runs are requests too
    assert report == (
        f"update {name}/c\n"
        '    changed $.change: "old" -> "new"\n'
        "    added   $.deep.b: null\n"
        "    removed $.gone: true\n"
        "    removed $.list[1]: 2\n"
        "    added   $.on: 1\n"
        f"create {name}/fresh\n"
        '    added   $.k: "v"\n'
        f"drift {name}/extra: on the service, not in {directory}\n"
        "2 to change, 1 unchanged, 1 drift\n"
    )
    assert apply(server, directory) == 0
    assert apply(server, directory, "--check") == 0
    assert current(http, name, "c")["config"] == new


def test_a_change_between_read_and_write_stops_apply_and_the_colleagues_change_survives(
    server, http, tmp_path, capsys, monkeypatch
):
    name = random_name("app")
    assert apply(server, write_tree(tmp_path / "v1", {name: {"c": {"v": 1}}})) == 0
    colleague = {"v": "colleague"}
    read_then_changed = applying.plan

    def plan_then_colleague_writes(*args):
        planned = read_then_changed(*args)
        found = current(http, name, "c")
        put = {"name": "c", "config": colleague}
        assert http.put(f"/configurations/{found['id']}", json=put).status_code == 200
        return planned

    monkeypatch.setattr(applying, "plan", plan_then_colleague_writes)
    capsys.readouterr()
    assert apply(server, write_tree(tmp_path / "v2", {name: {"c": {"v": 2}}})) == 1
    error = capsys.readouterr().err
    assert error == (
        f"config-service: {name}/c was changed on the service after apply read it; nothing was "
        "overwritten: run apply again to compare with the new version\n"
    )
    assert current(http, name, "c")["config"] == colleague


def test_a_create_that_loses_a_race_compares_with_the_winner(server, http, tmp_path, monkeypatch):
    name = random_name("app")
    read_then_created = applying.plan

    def plan_then_colleague_creates(*args):
        planned = read_then_created(*args)
        application = http.post("/applications", json={"name": name}).json()
        body = {"application_id": application["id"], "name": "c", "config": {"v": 0}}
        assert http.post("/configurations", json=body).status_code == 201
        return planned

    monkeypatch.setattr(applying, "plan", plan_then_colleague_creates)
    assert apply(server, write_tree(tmp_path, {name: {"c": {"v": 1}}})) == 0
    assert current(http, name, "c")["config"] == {"v": 1}


def test_the_console_script_is_installed_and_documents_its_exit_codes(server, tmp_path):
    script = Path(sys.executable).with_name("config-service")
    shown = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0 and "3 apply --check found" in shown.stdout
    usage = subprocess.run([script, "apply"], capture_output=True, text=True, timeout=30)
    assert usage.returncode == 2
    name = random_name("app")
    write_tree(tmp_path, {name: {"c": {"v": 1}}})
    env = {"CONFIG_SERVICE_URL": server.url, "PATH": ""}
    applied = subprocess.run(
        [script, "apply", str(tmp_path)], capture_output=True, text=True, timeout=30, env=env
    )
    assert applied.returncode == 0, applied.stderr
    got = subprocess.run(
        [script, "get", f"{name}/c"], capture_output=True, text=True, timeout=30, env=env
    )
    assert json.loads(got.stdout) == {"v": 1}


POOL_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["pool_size"],
    "properties": {"pool_size": {"type": "integer", "minimum": 1}},
}


def test_apply_attaches_schemas_named_by_dollar_schema_and_does_not_send_the_key(
    server, http, tmp_path
):
    application = random_name("app")
    directory = write_tree(
        tmp_path,
        {application: {"schema": POOL_SCHEMA, "db": {"$schema": "./schema.json", "pool_size": 4}}},
    )
    assert apply(server, directory) == 0
    db = current(http, application, "db")
    assert db["config"] == {"pool_size": 4}  # the key is the link, not config
    schema = current(http, application, "schema")
    link = http.head(f"/configurations/{db['id']}").headers["link"]
    assert f'</api/v1/configurations/{schema["id"]}>; rel="describedby"' in link
    assert current(http, application, "schema")["config"]["$schema"].startswith("https://")
    assert apply(server, directory, "--check") == 0  # attached and equal: nothing to change


def test_check_and_apply_refuse_a_file_the_schema_refuses_writing_nothing(
    server, http, tmp_path, capsys
):
    application = random_name("app")
    directory = write_tree(
        tmp_path,
        {application: {"schema": POOL_SCHEMA, "db": {"$schema": "./schema.json", "pool_size": 4}}},
    )
    assert apply(server, directory) == 0
    (directory / application / "db.json").write_text(
        json.dumps({"$schema": "./schema.json", "pool_size": 0})
    )
    (directory / application / "cache.json").write_text(json.dumps({"size": 1}))  # valid
    before = writes(server)
    capsys.readouterr()
    for options in (["--check"], ["--dry-run"], []):
        assert apply(server, directory, *options) == 1
        error = capsys.readouterr().err
        assert f"{application}/db.json would be refused (422)" in error
        assert "body/config/pool_size: must be >= 1 [minimum]" in error
    assert current(http, application, "db")["config"] == {"pool_size": 4}
    assert "cache" not in {body["name"] for body in bodies(http, application)}
    assert writes(server) - before == 3 * 2  # only the dry runs: db's PUT and cache's POST, thrice

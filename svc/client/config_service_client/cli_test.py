"""Argument parsing, the environment, and exit codes of `config-service`."""

import json

import httpx
import pytest

from config_service_client import cli

CONFIGURATION = {"id": "C1", "application_id": "A1", "name": "prod", "comments": ""}


@pytest.fixture
def calls(monkeypatch):
    """Every command records the URL and token it was given instead of running."""
    monkeypatch.delenv("CONFIG_SERVICE_URL", raising=False)
    monkeypatch.delenv("CONFIG_SERVICE_TOKEN", raising=False)
    seen = []
    for name in cli.COMMANDS:
        monkeypatch.setitem(
            cli.COMMANDS, name, lambda arguments, url, token: seen.append((url, token)) or 0
        )
    return seen


@pytest.mark.parametrize(
    "arguments",
    [
        ["--url", "http://u", "--token", "t", "get", "a/c"],
        ["get", "a/c", "--url", "http://u", "--token", "t"],
        ["--url", "http://u", "get", "--token", "t", "a/c"],
    ],
)
def test_connection_options_go_before_or_after_the_command(calls, arguments):
    assert cli.main(arguments) == 0
    assert calls == [("http://u", "t")]


def test_the_environment_stands_in_for_missing_options(calls, monkeypatch):
    monkeypatch.setenv("CONFIG_SERVICE_URL", "http://env")
    monkeypatch.setenv("CONFIG_SERVICE_TOKEN", "secret")
    assert cli.main(["history", "a/c"]) == 0
    assert cli.main(["history", "a/c", "--url", "http://flag"]) == 0
    assert calls == [("http://env", "secret"), ("http://flag", "secret")]


@pytest.mark.parametrize(
    "arguments",
    [
        [],
        ["get", "a/c"],  # no URL anywhere
        ["--url", "http://u", "history", "no-slash"],
        ["--url", "http://u", "rollback", "no-slash", "--to", "1"],
        ["--url", "http://u", "bogus", "a/c"],
        ["--url", "http://u", "history", "a/c", "--limit", "x"],
        ["--url", "http://u", "rollback", "a/c"],  # --to is required
        ["--url", "http://u", "rollout", "no-slash"],
        ["--url", "http://u", "rollout", "a/c", "--promote", "--abort"],
        ["--url", "http://u", "rollout", "a/c", "--percent", "100"],  # --promote says it
    ],
)
def test_usage_errors_exit_2_and_run_nothing(calls, capsys, arguments):
    with pytest.raises(SystemExit) as exited:
        cli.main(arguments)
    assert exited.value.code == 2
    assert calls == [] and "usage:" in capsys.readouterr().err


def service(config: dict, writes: list):
    """A read-only token's view: reads answer, every write is refused (and recorded)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            writes.append(request)
        elif request.url.path == "/api/v1/applications":
            found = [{"id": "A1", "name": "shop", "configuration_ids": ["C1"]}]
            return httpx.Response(200, json=found if request.url.params["name"] == "shop" else [])
        elif request.url.path == "/api/v1/applications/A1":  # read whole
            application = {"id": "A1", "name": "shop", "configuration_ids": ["C1"]}
            items = [CONFIGURATION | {"config": config}]
            return httpx.Response(200, json=application | {"configurations": items})
        elif request.url.path == "/api/v1/configurations/C1":
            return httpx.Response(
                200, json=CONFIGURATION | {"config": config}, headers={"ETag": '"e"'}
            )
        return httpx.Response(403, json={"detail": "read only"})

    return answer


@pytest.fixture
def apply_directory(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "prod.json").write_text(json.dumps({"a": 2}))
    return str(tmp_path)


def connected_to(monkeypatch, config: dict) -> list:
    writes = []
    transport = httpx.MockTransport(service(config, writes))
    monkeypatch.setattr(
        cli,
        "connect",
        lambda url, token: httpx.Client(base_url=url + "/api/v1", transport=transport, timeout=5),
    )
    return writes


def test_check_exits_3_on_differences_and_0_without(monkeypatch, capsys, apply_directory):
    writes = connected_to(monkeypatch, {"a": 1})
    assert cli.main(["apply", apply_directory, "--check", "--url", "http://s"]) == 3
    assert [(w.method, w.url.params["dry_run"]) for w in writes] == [("PUT", "")]  # tried only
    captured = capsys.readouterr()
    assert "not tried with ?dry_run (403" in captured.err  # this token may not write
    out = captured.out
    assert "update shop/prod" in out and out.endswith("1 to change, 0 unchanged, 0 drift\n")
    connected_to(monkeypatch, {"a": 2})
    assert cli.main(["--url", "http://s", "apply", apply_directory, "--check"]) == 0
    assert capsys.readouterr().out == "0 to change, 1 unchanged, 0 drift\n"


def test_a_refusal_exits_1_with_one_line(monkeypatch, capsys, apply_directory):
    writes = connected_to(monkeypatch, {"a": 1})
    assert cli.main(["--url", "http://s", "apply", apply_directory]) == 1
    assert [w.headers["If-Match"] for w in writes] == ['"e"']
    assert capsys.readouterr().err == (
        "config-service: PUT /api/v1/configurations/C1: 403 read only\n"
    )


@pytest.mark.parametrize(
    ("target", "printed"), [("shop", {"prod": {"a": 1}}), ("shop/prod", {"a": 1})]
)
def test_get_prints_an_application_by_configuration_name_or_one_config(
    monkeypatch, capsys, target, printed
):
    connected_to(monkeypatch, {"a": 1})
    assert cli.main(["--url", "http://s", "get", target]) == 0
    assert json.loads(capsys.readouterr().out) == printed


def test_get_of_an_unknown_application_exits_1_naming_it(monkeypatch, capsys):
    connected_to(monkeypatch, {})
    assert cli.main(["--url", "http://s", "get", "nope"]) == 1
    assert "no application named 'nope'" in capsys.readouterr().err

"""The README says what the service does: its examples run, its tables match the code."""

import json
import logging
import os
import re
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import httpx
import pytest

from config_service.main import create_app
from config_service.telemetry.catalogue import service_registry
from config_service.settings import SVC_DIR, Settings
from config_service_client.follower import CONDITION_LOST
from conftest import make_settings
from test.live_server import LiveServer
from test.live_server import ServerProcess
from test.nginx import RECIPE
from test.random_refs import random_name
from test.waiting import until

README = (SVC_DIR.parent / "README.md").read_text()
READING = (SVC_DIR / "docs" / "reading.md").read_text()
OPERATIONS = (SVC_DIR / "docs" / "operations.md").read_text()
RUNTIME = "Fetching configuration from a runtime"


def section(title: str, document: str = README) -> str:
    start = document.index(f"\n## {title}\n")
    end = document.find("\n## ", start + 1)
    return document[start : end if end != -1 else None]


class Done(Exception):
    """Ends the example's endless loop once the test has seen enough."""


def code_blocks(title: str, language: str, document: str = README) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(title, document), re.S)


def test_the_runtime_example_follows_a_configuration_through_a_change(database_url):
    (code,) = code_blocks("The loop in Python, standard library only", "python", READING)
    example: dict = {}
    exec(code, example)
    with LiveServer(create_app(make_settings(database_url))) as server:
        http = httpx.Client(base_url=server.url, timeout=10)
        application = http.post("/api/v1/applications", json={"name": random_name()}).json()
        configuration = http.post(
            "/api/v1/configurations",
            json={"application_id": application["id"], "name": "c", "config": {"v": 1}},
        ).json()
        example["BASE"] = f"{server.url}/api/v1/configurations/"
        seen = []
        first = threading.Event()

        def apply(config: dict) -> None:
            seen.append(config)
            first.set()
            if len(seen) == 2:
                raise Done()

        outcome = {}

        def run() -> None:
            try:
                example["follow"](configuration["id"], apply)
            except Done:
                outcome["done"] = True

        follower = threading.Thread(target=run)
        follower.start()
        assert first.wait(10), "the example did not read the configuration"
        http.put(
            f"/api/v1/configurations/{configuration['id']}", json={"name": "c", "config": {"v": 2}}
        )
        follower.join(timeout=10)

    assert outcome == {"done": True} and seen == [{"v": 1}, {"v": 2}]


def test_the_client_example_follows_a_configuration_by_name(database_url, tmp_path):
    code = next(block for block in code_blocks(RUNTIME, "python") if "ConfigClient" in block)
    application = random_name("billing")
    with ServerProcess(database_url) as server:
        http = httpx.Client(base_url=f"{server.url}/api/v1", timeout=10)
        created = http.post("/applications", json={"name": application}).json()
        body = {"application_id": created["id"], "name": "production", "config": {"v": 1}}
        configuration = http.post("/configurations", json=body).json()
        code = code.replace("http://127.0.0.1:8000", server.url)
        code = code.replace('"billing"', repr(application))
        code = code.replace("/var/cache/billing-config", str(tmp_path))
        running, stopping = code.split("...", 1)  # the runtime runs where the example says so
        example: dict = {}
        exec(running, example)
        follower = example["follower"]
        try:
            assert example["config"] == {"v": 1}
            http.put(f"/configurations/{configuration['id']}", json={**body, "config": {"v": 2}})
            until(lambda: follower.config == {"v": 2}, 10, "the change")
            assert logging.getLogger("httpx").getEffectiveLevel() > logging.INFO  # quiet
        finally:
            exec(stopping, example)  # the request it holds is abandoned, answered at shutdown
    follower.join(10)
    assert not follower._thread.is_alive(), "stop() ended the follow"
    assert list(tmp_path.iterdir()), "the disk cache was written"


@pytest.fixture(scope="module")
def installed_tool(tmp_path_factory) -> Path:
    """The README's `uv tool install` line, run from the top folder into a throwaway tool
    directory (never downloading a Python): the directory `config-service` was put in."""
    install, _ = code_blocks("Provisioning from CI", "sh")
    tools = tmp_path_factory.mktemp("uv-tools")
    ran = subprocess.run(
        ["bash", "-e", "-c", install],
        cwd=SVC_DIR.parent,
        env={
            **os.environ,
            # The uv running these tests first (`uv run` names itself in UV): pyenv's shim
            # may hide the one on PATH.
            "PATH": os.pathsep.join(
                [os.path.dirname(os.environ["UV"])] * ("UV" in os.environ) + [os.environ["PATH"]]
            ),
            "UV_TOOL_DIR": str(tools / "tools"),
            "UV_TOOL_BIN_DIR": str(tools / "bin"),
            "UV_PYTHON_DOWNLOADS": "never",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return tools / "bin"


def without_the_projects_environment(bin_directory: Path) -> str:
    """A PATH with `bin_directory` first and without this test run's virtualenv, so that
    `config-service` can only be the one installed there."""
    ours = os.path.dirname(sys.executable)
    return ":".join([str(bin_directory), *(p for p in os.environ["PATH"].split(":") if p != ours)])


def test_the_installed_tool_runs_on_its_own(installed_tool):
    ran = subprocess.run(
        ["config-service", "--help"],
        env={**os.environ, "PATH": without_the_projects_environment(installed_tool)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("usage: config-service")
    assert (installed_tool / "config-service").resolve().parent != Path(sys.executable).parent


def test_the_provisioning_example_runs(database_url, tmp_path, installed_tool):
    _, script = code_blocks("Provisioning from CI", "sh")
    application = random_name("billing")
    with ServerProcess(database_url) as server:
        script = script.replace("http://127.0.0.1:8000", server.url).replace("billing", application)
        ran = subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=tmp_path,
            env={**os.environ, "PATH": without_the_projects_environment(installed_tool)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"create {application}/production" in ran.stdout
    printed = ran.stdout[ran.stdout.rindex("{") - 0 :]
    assert json.loads(printed) == {"currency": "EUR", "retries": 3}


def test_the_client_package_needs_only_httpx(tmp_path):
    uv = os.environ.get("UV", "uv")  # `uv run` names itself here
    built = subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(tmp_path), "client"],
        cwd=SVC_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("config_service_client-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(name for name in names if name.endswith("METADATA"))
        requires = [
            line
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith(("Requires-Dist:", "Requires-Python:"))
        ]
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt")))
    # Every supported Python, and a range of httpx (make test-client-pythons runs both ends).
    assert sorted(requires) == ["Requires-Dist: httpx>=0.23.1,<1", "Requires-Python: >=3.10"]
    assert b"config-service = config_service_client.cli:main" in entry_points
    assert not [name for name in names if name.endswith("_test.py")]


def markdown_table() -> str:
    """The service's families as a Markdown table: name | type | labels | help."""
    registry, _ = service_registry(routes={})
    rows = ["| name | type | labels | help |", "| --- | --- | --- | --- |"]
    for info in registry.describe():
        labels = ", ".join(f"`{label}`" for label in info.labels)
        help = info.help.replace("|", "\\|")  # a bare | would end the cell
        rows.append(f"| `{info.name}` | {info.kind} | {labels} | {help} |")
    return "\n".join(rows) + "\n"


def test_the_proxy_recipe_is_the_one_the_nginx_tests_use():
    assert RECIPE in section("Behind a reverse proxy", OPERATIONS)
    assert RECIPE in CONDITION_LOST  # what the follower's log tells to do


def test_the_metrics_table_is_the_codes():
    assert markdown_table() in section("Monitoring", OPERATIONS)


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_in_the_settings_table(name):
    assert f"`{name.upper()}`" in section("Settings")

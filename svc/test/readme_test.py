"""The README says what the service does: its examples run, its tables match the code."""

import re
import threading

import httpx
import pytest

from config_service.main import create_app
from config_service.telemetry.catalogue import service_registry
from config_service.settings import SVC_DIR, Settings
from conftest import make_settings
from test.live_server import LiveServer
from test.random_refs import random_name

README = (SVC_DIR.parent / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


class Done(Exception):
    """Ends the example's endless loop once the test has seen enough."""


def test_the_runtime_example_follows_a_configuration_through_a_change(database_url):
    code = re.search(r"```python\n(.*?)```", section("Fetching configuration from a runtime"), re.S)
    example: dict = {}
    exec(code.group(1), example)
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


def markdown_table() -> str:
    """The service's families as a Markdown table: name | type | labels | help."""
    registry, _ = service_registry(routes=())
    rows = ["| name | type | labels | help |", "| --- | --- | --- | --- |"]
    for info in registry.describe():
        labels = ", ".join(f"`{label}`" for label in info.labels)
        help = info.help.replace("|", "\\|")  # a bare | would end the cell
        rows.append(f"| `{info.name}` | {info.kind} | {labels} | {help} |")
    return "\n".join(rows) + "\n"


def test_the_metrics_table_is_the_codes():
    assert markdown_table() in section("Monitoring")


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_in_the_settings_table(name):
    assert f"`{name.upper()}`" in section("Settings")

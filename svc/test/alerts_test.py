"""The alerting rules of docs/alerts.yml: Prometheus's own promtool accepts them and runs their
unit tests (docs/alerts_test.yml), and every metric they read is one the service exposes."""

import re
import shutil
import subprocess

import pytest

from config_service.settings import SVC_DIR
from config_service.telemetry.catalogue import service_registry

DOCS = SVC_DIR / "docs"
RULES = DOCS / "alerts.yml"
HOW_TO_INSTALL = (
    "the alerting-rules tests need promtool, which is missing: install it with\n"
    "  apt-get update && apt-get install -y prometheus   (Debian/Ubuntu; .ci/run does this)"
)


def promtool(*arguments: str) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail(HOW_TO_INSTALL)
    return subprocess.run(
        [binary, *arguments], cwd=DOCS, capture_output=True, text=True, timeout=60
    )


def test_promtool_accepts_the_rules():
    checked = promtool("check", "rules", RULES.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout


def test_each_alert_fires_on_its_series_and_only_there():
    tested = promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_the_rules_name_only_metrics_the_service_exposes():
    registry, _ = service_registry(routes={})
    exposed = {info.name for info in registry.describe()}
    named = set(re.findall(r"\b(?:config_service|process)_[a-z_]+", RULES.read_text()))
    assert {"process_start_time_seconds", "config_service_db_pool_connections"} <= named
    assert named <= exposed, named - exposed

import json
import logging

import pytest

from config_service.logs import JsonFormatter, TextFormatter, configure_logging
from conftest import make_settings


def record(message: str = "request", **fields) -> logging.LogRecord:
    log_record = logging.LogRecord(
        "config_service.requests", logging.INFO, __file__, 1, message, None, None
    )
    log_record.fields = fields
    return log_record


def test_json_lines_carry_utc_time_level_message_and_fields():
    line = json.loads(JsonFormatter().format(record(status=200, path="/api/v1/applications/{id}")))
    assert line["time"].endswith("+00:00")
    assert (line["level"], line["message"], line["status"]) == ("info", "request", 200)
    assert line["path"] == "/api/v1/applications/{id}"


def test_json_lines_include_a_traceback_once():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        failed = record("unhandled error")
        failed.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(failed))
    assert "ValueError: boom" in line["traceback"]


def test_text_lines_read_well_in_a_terminal():
    line = TextFormatter().format(record(status=201, method="POST"))
    assert "INFO" in line and line.endswith("request status=201 method=POST")


@pytest.fixture
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_configure_logging_installs_one_handler_in_the_chosen_format(
    database_url, restore_root_logger
):
    configure_logging(make_settings(database_url, log_format="text", log_level="debug"))
    root = logging.getLogger()
    assert len(root.handlers) == 1
    assert isinstance(root.handlers[0].formatter, TextFormatter)
    assert root.level == logging.DEBUG
    assert logging.getLogger("uvicorn.access").propagate is False

    configure_logging(make_settings(database_url, log_format="json", log_level="warning"))
    assert isinstance(root.handlers[0].formatter, JsonFormatter)
    assert len(root.handlers) == 1

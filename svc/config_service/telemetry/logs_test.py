import logging

import pytest

from config_service.telemetry.log_lines import JsonFormatter, TextFormatter
from config_service.telemetry.logs import (
    configure_logging,
    records_differ_by_more_than_time,
    skip_what_no_line_shows,
)
from conftest import make_settings


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


def test_skipping_what_no_line_shows_sets_logging_s_own_switches():
    """logs.py sets logging's module globals, `_srcfile` (private) among them, as CPython 3.13
    names them: if one goes, the service would set a name logging no longer reads."""
    saved = {
        name: getattr(logging, name)
        for name in (
            "_srcfile",
            "logThreads",
            "logProcesses",
            "logMultiprocessing",
            "logAsyncioTasks",
        )
    }
    before = records_differ_by_more_than_time()
    try:
        skip_what_no_line_shows()
        assert not records_differ_by_more_than_time()
        record = logging.getLogger("config_service.test").makeRecord(
            "config_service.test", logging.INFO, "(unknown file)", 0, "m", (), None
        )
        assert (record.thread, record.process, record.taskName) == (None, None, None)
    finally:
        for name, value in saved.items():
            setattr(logging, name, value)
    assert records_differ_by_more_than_time() == before

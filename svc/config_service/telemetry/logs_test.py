import json
import logging

import pytest

from config_service.telemetry.logs import JsonFormatter, TextFormatter, configure_logging
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


def test_the_cheap_timestamp_is_what_datetime_says():
    from datetime import UTC, datetime

    from config_service.telemetry.logs import _timestamp

    for created in (0.0, 1764583737.1234567, 1764583737.9999996, 1764583738.0005, 1.5e9 + 0.999):
        log_record = record()
        log_record.created = created
        expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        assert _timestamp(log_record) == expected


def test_lines_logged_on_the_event_loop_are_written_together_after_that_turn():
    import asyncio
    import io

    from config_service.telemetry.logs import BatchingStreamHandler

    class CountingStream(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            self.writes += 1
            return super().write(text)

    stream = CountingStream()
    handler = BatchingStreamHandler(stream)
    handler.setFormatter(JsonFormatter())

    async def burst() -> int:
        for number in range(100):
            handler.handle(record(number=number))
        written_during_the_turn = stream.writes
        await asyncio.sleep(0)  # the loop turns: the scheduled flush runs
        return written_during_the_turn

    assert asyncio.run(burst()) == 0
    assert stream.writes == 1
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["number"] for line in lines] == list(range(100))
    warning = record("slow")
    warning.levelno = logging.WARNING
    handler.handle(warning)  # off the loop, and a warning: written at once
    assert stream.writes == 2


def test_lines_logged_on_the_event_loop_are_formatted_after_that_turn_and_one_bad_one_is_dropped():
    import asyncio
    import io

    from config_service.telemetry.logs import BatchingStreamHandler

    formatted: list[int] = []

    class RecordingFormatter(JsonFormatter):
        def format(self, record: logging.LogRecord) -> str:
            if record.fields.get("bad"):
                raise ValueError("cannot format this one")
            formatted.append(record.fields["number"])
            return super().format(record)

    stream = io.StringIO()
    handler = BatchingStreamHandler(stream)
    handler.setFormatter(RecordingFormatter())
    handler.handleError = lambda record: None  # logging would print the error to stderr

    async def burst() -> list[int]:
        handler.handle(record(number=1))
        handler.handle(record(number=2, bad=True))
        handler.handle(record(number=3))
        formatted_during_the_turn = list(formatted)
        await asyncio.sleep(0)
        return formatted_during_the_turn

    assert asyncio.run(burst()) == []  # the answers of the turn go out first
    assert [json.loads(line)["number"] for line in stream.getvalue().splitlines()] == [1, 3]


@pytest.mark.parametrize(
    "fields",
    [
        {"status": 200, "duration_ms": 0.123, "path": "/api/v1/configurations/{id}"},
        {"quote": 'a"b\\c', "control": "\x00\n\t", "accent": "é", "emoji": "🙂"},
        {"none": None, "yes": True, "no": False, "big": 10**30, "negative": -1.5e-9},
        {"nan": float("nan"), "infinite": float("inf"), "nested": {"a": [1, "x", None]}},
        {"object": object(), "bytes": b"raw"},  # the encoder's default: str()
    ],
)
def test_json_line_writes_what_the_json_encoder_writes(fields):
    from config_service.telemetry.logs import _ENCODER, json_line

    assert json_line(fields) == _ENCODER.encode(fields)


def test_a_stream_that_fails_does_not_raise_into_the_code_that_logs():
    from config_service.telemetry.logs import BatchingStreamHandler

    class BrokenStream:
        def write(self, text: str) -> int:
            raise OSError("disk full")

        def flush(self) -> None:
            pass

    handler = BatchingStreamHandler(BrokenStream())
    handler.setFormatter(JsonFormatter())
    failures = []
    handler.handleError = failures.append
    warning = record("slow")
    warning.levelno = logging.WARNING
    handler.handle(warning)  # written at once: the OSError goes to handleError, not to us
    assert failures == [warning]

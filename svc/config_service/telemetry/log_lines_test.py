import inspect
import json
import logging
from datetime import UTC, datetime

import pytest

from config_service.telemetry import log_lines
from config_service.telemetry.log_lines import (
    _ENCODER,
    JsonFormatter,
    TextFormatter,
    _timestamp,
    json_line,
)


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


def test_the_cheap_timestamp_is_what_datetime_says():
    for created in (0.0, 1764583737.1234567, 1764583737.9999996, 1764583738.0005, 1.5e9 + 0.999):
        log_record = record()
        log_record.created = created
        expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        assert _timestamp(log_record) == expected


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
    assert json_line(fields) == _ENCODER.encode(fields)


def test_json_lines_are_made_by_the_private_c_encoder_called_as_json_calls_it():
    """log_lines.py leans on json.encoder.c_make_encoder (CPython 3.13): it must be there,
    and JSONEncoder must still call it with the arguments in the order json_line passes them
    (markers, default, encoder, indent, separators, sort_keys, skipkeys, allow_nan)."""
    assert log_lines._encode_chunks is not None  # the fast path is the one tested above
    called = inspect.getsource(json.encoder.JSONEncoder.iterencode)
    assert (
        " ".join(called.split()).count(
            "c_make_encoder( markers, self.default, _encoder, indent, self.key_separator,"
            " self.item_separator, self.sort_keys, self.skipkeys, self.allow_nan)"
        )
        == 1
    )

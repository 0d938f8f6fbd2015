"""How a log line looks: one JSON object for machines, or plain text for a terminal.

Fields passed as `extra={"fields": {...}}` become keys of the JSON line (or key=value text).
Every request writes a line, so a line is made cheaply: the timestamp's date and time once a
second, and json's C encoder made once, where JSONEncoder.encode makes one per line
(docs/performance.md has the figures).
"""

import json
import logging
from datetime import UTC, datetime

# Leans on json's private C encoder (json.encoder.c_make_encoder, _json.make_encoder) and the
# order of its arguments, as CPython 3.13 has them (JSONEncoder.iterencode calls it the same
# way); log_lines_test.py fails if either changes.
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]

_ENCODER = json.JSONEncoder(default=str)  # one, not one per line as json.dumps(default=) makes

# The C encoder behind json, made once: JSONEncoder.encode makes a new one for every call,
# which costs more than encoding a line. No check for circular references (a line's fields
# are flat values); where json has no C speedups, the encoder as above.
_encode_chunks = (
    c_make_encoder(None, str, encode_basestring_ascii, None, ": ", ", ", False, False, True)
    if c_make_encoder is not None
    else None
)


def json_line(line: dict[str, object]) -> str:
    """`line` as _ENCODER.encode writes it, without making an encoder first."""
    if _encode_chunks is None:
        return _ENCODER.encode(line)
    return "".join(_encode_chunks(line, 0))


# The text of the second last formatted, shared by every formatter of the process.
_second = -1
_second_text = ""


def _timestamp(record: logging.LogRecord) -> str:
    """The record's time as ISO 8601 UTC with milliseconds, e.g. 2026-12-01T10:00:00.123+00:00."""
    global _second, _second_text
    # Rounded to microseconds first, as datetime.fromtimestamp does.
    second, microseconds = divmod(round(record.created * 1_000_000), 1_000_000)
    if second != _second:
        _second_text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second = second
    return f"{_second_text}.{microseconds // 1000:03d}+00:00"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            line.update(fields)
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json_line(line)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={value}" for key, value in getattr(record, "fields", {}).items())
        line = f"{_timestamp(record)} {record.levelname:<7} {record.getMessage()} {fields}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line

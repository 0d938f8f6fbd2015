"""Logging set-up: one JSON object per line for machines, or plain text for a terminal.

Fields passed as `extra={"fields": {...}}` become keys of the JSON line (or key=value text).

Every request writes a line, so the line is made cheaply (the timestamp's date and time once
a second, one JSON encoder) and lines written on the event loop are written together, once
per turn of the loop (BatchingStreamHandler): a PUT that wakes 10,000 held requests makes a few
writes, not 10,000.
"""

import asyncio
import json
import logging
import logging.config
from datetime import UTC, datetime

from config_service.settings import Settings


_ENCODER = json.JSONEncoder(default=str)  # one, not one per line as json.dumps(default=) makes
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
        return _ENCODER.encode(line)


class BatchingStreamHandler(logging.StreamHandler):
    """A StreamHandler that, on a thread running an event loop, keeps the lines of one turn
    of the loop and writes them together at its end. Elsewhere, and for warnings and worse,
    each line is written at once."""

    def __init__(self, stream=None):
        super().__init__(stream)
        self._lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            loop = _running_loop()
            if loop is None or record.levelno >= logging.WARNING:
                self._write_now(line)
                return
            if not self._lines:
                loop.call_soon(self.flush)
            self._lines.append(line)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def _write_now(self, line: str) -> None:
        self._lines.append(line)
        self.flush()

    def flush(self) -> None:
        with self.lock:  # handle() holds it around emit; a scheduled flush takes it here
            if self._lines:
                lines, self._lines = self._lines, []
                self.stream.write("".join(lines))
            if self.stream and hasattr(self.stream, "flush"):
                self.stream.flush()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={value}" for key, value in getattr(record, "fields", {}).items())
        line = f"{_timestamp(record)} {record.levelname:<7} {record.getMessage()} {fields}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def logging_config(settings: Settings) -> dict:
    """A dictConfig sending every logger, uvicorn's included, through one handler.

    Given to uvicorn too, so each worker process sets itself up the same way.
    """
    formatter = JsonFormatter if settings.log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": f"{formatter.__module__}.{formatter.__name__}"}},
        "handlers": {
            "default": {
                "class": f"{BatchingStreamHandler.__module__}.BatchingStreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": settings.log_level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # The request log (config_service.requests) replaces uvicorn's access log.
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


def configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(logging_config(settings))
    skip_what_no_line_shows()


def skip_what_no_line_shows() -> None:
    """Stop logging from looking up, for every record, what no line here prints: the calling
    file and line, thread, process and asyncio task (the Logging HOWTO's "Optimization").
    A request's line costs a third less."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.logAsyncioTasks = False

"""Logging set-up: one JSON object per line for machines, or plain text for a terminal.

Fields passed as `extra={"fields": {...}}` become keys of the JSON line (or key=value text).

Every request writes a line, so the line is made cheaply (the timestamp's date and time once
a second; json's C encoder made once, where JSONEncoder.encode makes one per line), and the
lines logged on the event loop are formatted and written together, once per turn of the loop,
after that turn's answers are sent (BatchingStreamHandler): a PUT that wakes 10,000 held
requests sends all 10,000 answers before it formats a line, and makes a few writes, not 10,000.
"""

import asyncio
import json
import logging
import logging.config
from datetime import UTC, datetime
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]

from config_service.settings import Settings

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
    """`line` as _ENCODER.encode writes it, without making an encoder first (a request's
    line: 40–60% of the time)."""
    if _encode_chunks is None:
        return _ENCODER.encode(line)
    return "".join(_encode_chunks(line, 0))


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


class BatchingStreamHandler(logging.StreamHandler):
    """A StreamHandler that, on a thread running an event loop, keeps the records of one turn
    of the loop and formats and writes them together after it. Elsewhere, and for warnings and
    worse, each line is written at once. (A record keeps what it was logged with: the fields
    a line is made of are never changed after they are logged.)"""

    def __init__(self, stream=None):
        super().__init__(stream)
        self._records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        loop = _running_loop()
        if loop is None or record.levelno >= logging.WARNING:
            self._records.append(record)
            try:
                self.flush()
            except Exception:
                self.handleError(record)  # logging never raises into the code that logs
            return
        if not self._records:
            loop.call_soon(self.flush)
        self._records.append(record)

    def flush(self) -> None:
        with self.lock:  # handle() holds it around emit; a scheduled flush takes it here
            if self._records:
                records, self._records = self._records, []
                self.stream.write("".join(self._lines_of(records)))
            if self.stream and hasattr(self.stream, "flush"):
                self.stream.flush()

    def _lines_of(self, records: list[logging.LogRecord]) -> list[str]:
        lines = []
        for record in records:
            try:
                lines.append(self.format(record) + self.terminator)
            except RecursionError:
                raise
            except Exception:
                self.handleError(record)  # that record's line is lost, not the others
        return lines


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


def records_differ_by_more_than_time() -> bool:
    """Whether two records logged by the same call differ in more than their time: unless
    skip_what_no_line_shows has run, they have a source, a thread, a process or a task."""
    return logging._srcfile is not None or any(
        (
            logging.logThreads,
            logging.logProcesses,
            logging.logMultiprocessing,
            logging.logAsyncioTasks,
        )
    )


def skip_what_no_line_shows() -> None:
    """Stop logging from looking up, for every record, what no line here prints: the calling
    file and line, thread, process and asyncio task (the Logging HOWTO's "Optimization").
    A request's line costs a third less."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.logAsyncioTasks = False

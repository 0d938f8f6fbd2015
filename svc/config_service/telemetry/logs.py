"""Logging set-up: every logger, uvicorn's included, through one handler
(batching_handler.py) and one formatter (log_lines.py), and the process-wide switches that
make a record cheaper to create.
"""

import logging
import logging.config

from config_service.settings import Settings
from config_service.telemetry.batching_handler import BatchingStreamHandler
from config_service.telemetry.log_lines import JsonFormatter, TextFormatter


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


# The switches below are logging's module globals, for the whole process: `_srcfile` is
# private (the Logging HOWTO's "Optimization" names it), as in CPython 3.13; logs_test.py fails
# if it goes.


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
    file and line, thread, process and asyncio task (the Logging HOWTO's "Optimization";
    docs/performance.md says what it saves)."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.logAsyncioTasks = False

import asyncio
import io
import json
import logging

from config_service.telemetry.batching_handler import BatchingStreamHandler
from config_service.telemetry.log_lines import JsonFormatter
from config_service.telemetry.log_lines_test import record


def test_lines_logged_on_the_event_loop_are_written_together_after_that_turn():
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


def test_a_stream_that_fails_does_not_raise_into_the_code_that_logs():
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

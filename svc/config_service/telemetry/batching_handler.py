"""Writing log lines: the ones logged during a turn of the event loop, together after it.

On a thread running an event loop, a record is kept, and the turn's records are formatted and
written together once the turn is over, after that turn's answers are sent: a PUT that wakes
10,000 held requests sends all 10,000 answers before it formats a line, and makes a few
writes, not 10,000. Elsewhere, and for warnings and worse, each line is written at once.
"""

import asyncio
import logging


class BatchingStreamHandler(logging.StreamHandler):
    """A StreamHandler that writes the records of one turn of the event loop after it. (A
    record keeps what it was logged with: the fields a line is made of are never changed
    after they are logged.)"""

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

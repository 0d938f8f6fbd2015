"""The tokens in force, reread without a restart: on SIGHUP, and when the file changes.

Each worker holds its own TokenSource. SIGHUP reaches every worker (the supervisor passes it
on: process/supervisor.py), and each also looks at the file's modification time every few
seconds, so an edit takes effect everywhere without a signal. A file that fails to parse changes nothing:
the tokens in force stay, and the error is logged, so a typo neither opens nor locks the API.
"""

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from config_service.access.tokens import (
    Token,
    TokensFileError,
    TokenTable,
    environment_tokens,
    read_tokens_file,
)

log = logging.getLogger(__name__)

CHECK_EVERY_SECONDS = 2.0

type Stamp = tuple[int, int, int] | None


def _stamp(path: Path) -> Stamp:
    """What tells that the file changed: modification time, size and inode (an editor that
    replaces the file by renaming may keep the time to the second)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size, status.st_ino


class TokenSource:
    """The current TokenTable; `table` is replaced whole, so a request sees one or the other."""

    def __init__(
        self,
        path: Path | None,
        read_tokens: frozenset[str] = frozenset(),
        write_tokens: frozenset[str] = frozenset(),
    ):
        self.path = path
        self._environment: list[Token] = environment_tokens(read_tokens, write_tokens)
        self._stamp = _stamp(path) if path is not None else None
        # At start-up an invalid file raises: the service does not start without its tokens.
        self.table: TokenTable = TokenTable.of([*self._file_tokens(), *self._environment])

    def in_force(self) -> str:
        """How many tokens are in force and where they came from (names and secrets stay out)."""
        from_environment = len(self._environment)
        sources = []
        if self.path is not None:
            sources.append(f"{len(self.table) - from_environment} from API_TOKENS_FILE {self.path}")
        if from_environment:
            sources.append(f"{from_environment} from API_READ_TOKENS/API_WRITE_TOKENS")
        return f"{len(self.table)} token(s) in force: {', '.join(sources)}"

    def _file_tokens(self) -> list[Token]:
        return read_tokens_file(self.path) if self.path is not None else []

    def reload(self) -> bool:
        """Reread the file; on any error keep the tokens in force and log why. True if replaced."""
        if self.path is None:
            return False
        self._stamp = _stamp(self.path)
        try:
            table = TokenTable.of([*self._file_tokens(), *self._environment])
        except TokensFileError as error:
            log.error(f"API_TOKENS_FILE not reloaded, the tokens in force stay: {error}")
            return False
        self.table = table
        log.info(f"API_TOKENS_FILE reloaded: {len(table)} token(s)")
        return True

    def reload_if_changed(self) -> bool:
        if self.path is None or _stamp(self.path) == self._stamp:
            return False
        return self.reload()

    @asynccontextmanager
    async def reloading(self, interval: float = CHECK_EVERY_SECONDS) -> AsyncIterator[None]:
        """While inside: reload on SIGHUP and on change (checked every `interval` seconds)."""
        if self.path is None:
            yield
            return
        loop = asyncio.get_running_loop()
        on_signal = _install_sighup(loop, self.reload)
        task = loop.create_task(self._check_every(interval))
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            if on_signal:
                loop.remove_signal_handler(signal.SIGHUP)

    async def _check_every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                self.reload_if_changed()
            except Exception:  # never let the checker die: the next check may succeed
                log.exception("checking API_TOKENS_FILE for changes failed")


def _install_sighup(loop: asyncio.AbstractEventLoop, reload) -> bool:
    """Reload on SIGHUP; only a main thread's loop can take signals (not a test's thread)."""
    try:
        loop.add_signal_handler(signal.SIGHUP, reload)
    except (ValueError, RuntimeError, NotImplementedError):
        log.debug("SIGHUP not handled here (not the main thread); the file is still checked")
        return False
    return True

"""`make run` stopped as a developer stops it: Ctrl-C on its terminal, or `kill -INT -- -PGID`
from a script that started it in the background (a non-interactive shell starts background
jobs with SIGINT ignored, so make outlives it). Make adds no line of its own: no "Error 130"
(uv, with no terminal, passes the SIGINT on and answers 130), no "Interrupt"."""

import fcntl
import os
import pty
import select
import signal
import subprocess
import termios
import time

import pytest

from config_service.settings import SVC_DIR
from test.live_server import free_port

STARTED_WITHIN = 60  # seconds: uv sync, the database, migrations and the server
STOPPED_WITHIN = 30


def read_until(master: int, done, seconds: float) -> bytes:
    """What the terminal shows, until `done(shown)` or the end of output; bounded."""
    shown = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not done(shown):
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every process holding the terminal has gone
                break
            if not chunk:
                break
            shown += chunk
    return shown


@pytest.mark.parametrize("how", ["ctrl-c on its terminal", "kill -INT -- -PGID, in the background"])
def test_stopping_make_run_with_sigint_prints_no_make_error(empty_database, how):
    master, terminal = pty.openpty()  # what it prints, as a terminal (or a log) shows it
    in_background = how != "ctrl-c on its terminal"

    def in_the_child() -> None:
        if in_background:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        else:  # the pty is its controlling terminal, and it the foreground process group
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            signal.signal(signal.SIGINT, signal.SIG_DFL)

    make = subprocess.Popen(
        ["make", "run"],
        cwd=SVC_DIR,
        env={
            # The uv the Makefile finds for itself, as for a developer (with pyenv, its shim).
            **{name: value for name, value in os.environ.items() if name != "UV"},
            "DATABASE_URL": empty_database,
            "PORT": str(free_port()),
            "WORKERS": "1",
            "LOG_FORMAT": "text",
        },
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
        preexec_fn=in_the_child,
    )
    os.close(terminal)
    try:
        shown = read_until(master, lambda s: b"Application startup complete" in s, STARTED_WITHIN)
        assert b"Application startup complete" in shown, shown.decode(errors="replace")
        if in_background:
            os.killpg(make.pid, signal.SIGINT)
        else:
            os.write(master, b"\x03")  # the terminal sends SIGINT to its foreground group
        shown += read_until(master, lambda s: False, STOPPED_WITHIN)
        make.wait(timeout=STOPPED_WITHIN)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
        os.close(master)
    text = shown.decode(errors="replace")
    assert "Finished server process" in text, text  # it shut down cleanly
    assert "make: ***" not in text, text
    # Killed by the SIGINT like the rest of its group, or, ignoring it, ended with success.
    assert make.returncode == (0 if in_background else -signal.SIGINT)

import os
import tempfile
from types import SimpleNamespace

import pytest

from config_service.process import supervisor
from config_service.process.restart_backoff import Restart
from config_service.process.serving import listening_socket
from conftest import make_settings


def dead_worker(pid: int, exitcode: int) -> SimpleNamespace:
    """What _restart_line reads of a multiprocessing.Process that has ended."""
    return SimpleNamespace(pid=pid, exitcode=exitcode)


def test_a_restart_line_says_who_died_how_and_when_it_restarts():
    line = supervisor._restart_line(dead_worker(4242, 3), 12.345, Restart(0.4, True, False))
    assert line == "worker 4242 exited with code 3 after 12.3 s; restarting it in 0.4 s"


def test_at_the_cap_the_line_says_the_next_restarts_go_unannounced():
    line = supervisor._restart_line(dead_worker(7, -9), 0.05, Restart(30.0, True, True))
    assert line.startswith("worker 7 exited with code -9 after 0.1 s; restarting it in 30 s")
    assert line.endswith("(and every 30 s while it keeps dying, without saying so again)")


def test_a_held_port_stops_supervise_before_it_says_it_listens_and_cleans_up(monkeypatch):
    made = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(**kwargs):
        made.append(real_mkdtemp(**kwargs))
        return made[-1]

    monkeypatch.setattr(supervisor.tempfile, "mkdtemp", recording_mkdtemp)
    holder = listening_socket("127.0.0.1", 0)
    port = holder.getsockname()[1]
    listened = []
    try:
        settings = make_settings("postgresql://unused/x", port=port, workers=2)
        with pytest.raises(OSError):
            supervisor.supervise(
                settings, migrate=False, on_listening=lambda: listened.append(True)
            )
    finally:
        holder.close()
    assert listened == []
    [directory] = made
    assert not os.path.exists(directory)

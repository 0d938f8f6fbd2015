import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import servers
from test.waiting import until

SLEEPER = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ignoring SIGTERM', flush=True); time.sleep(60)"
)


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting to be reaped has stopped running)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_free_port_can_be_listened_on():
    port = servers.free_port()
    with socket.create_server(("127.0.0.1", port)):
        pass


def test_a_server_answers_is_measured_and_stops(tmp_path):
    with servers.floor("fastapi", tmp_path) as floor:
        assert floor.url == f"http://127.0.0.1:{floor.port}"
        assert floor.resident_kb() > 10_000  # a Python process with FastAPI loaded
    assert floor.process.returncode is not None
    assert (tmp_path / "floor-fastapi.log").exists()


def test_a_server_that_exits_is_reported_with_its_log(tmp_path):
    command = [sys.executable, "-c", "raise SystemExit('no way')"]
    with pytest.raises(RuntimeError, match="exited; see .*broken.log"):
        servers.start("broken", command, {}, tmp_path, "/")
    assert "no way" in (tmp_path / "broken.log").read_text()


def test_a_server_ignoring_sigterm_is_killed(tmp_path):
    log = tmp_path / "s.log"
    server = servers.Server([sys.executable, "-c", SLEEPER], {}, 1, log)
    until(lambda: log.exists() and "ignoring SIGTERM" in log.read_text(), seconds=30)
    server.stop(timeout=0.5)
    assert server.process.returncode == -signal.SIGKILL


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_servers_die_with_a_killed_bench(tmp_path):
    bench = (
        "import sys, time; from pathlib import Path; from bench.servers import Server; "
        "s = Server([sys.executable, '-c', 'import time; time.sleep(60)'], {}, 1, "
        f"Path({str(tmp_path)!r}) / 's.log'); print(s.process.pid, flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", bench], stdout=subprocess.PIPE, text=True, cwd=servers.SVC_DIR
    )
    child = int(parent.stdout.readline())
    assert alive(child)
    parent.kill()  # SIGKILL: no finally block runs in the bench
    parent.wait()
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)

"""A worker that keeps dying at start: restarted with growing waits, each step said once.

The crash is made outside the service's code: a sitecustomize module (on PYTHONPATH) ends every
spawned worker process at once while a marker file exists; the supervisor itself is spared.
"""

import json
import re
import time

from test.live_server import ServerProcess
from test.waiting import until

CRASH_WORKERS = """
import os, sys
if "spawn_main" in open("/proc/self/cmdline").read() and os.path.exists({marker!r}):
    os._exit(3)
"""
RESTART = re.compile(r"exited with code 3 after [0-9.]+ s; restarting it in ([0-9.]+) s")


def test_a_worker_crashing_at_start_is_restarted_with_growing_waits_then_serves(
    database_url, tmp_path
):
    marker = tmp_path / "crash"
    marker.touch()
    (tmp_path / "sitecustomize.py").write_text(CRASH_WORKERS.format(marker=str(marker)))
    server = ServerProcess(database_url, WORKERS="2", PYTHONPATH=str(tmp_path))
    try:
        server.start()

        def delays() -> list[float]:
            return [
                float(match[1])
                for line in server.read_output().splitlines()
                if line.startswith("{") and (match := RESTART.search(json.loads(line)["message"]))
            ]

        until(lambda: len(delays()) >= 2 * 5, seconds=30, message="five restarts per worker")
        marker.unlink()  # the next start of each worker succeeds
        server.wait_until_ready()
        seen = delays()
        time.sleep(0.5)
        assert delays() == seen  # healthy workers: no more restarts
    finally:
        server.stop()
    assert sorted(set(seen))[:5] == [0.2, 0.4, 0.8, 1.6, 3.2]
    # Two workers, each its own schedule: every step appears at most twice (once per worker).
    assert all(seen.count(delay) <= 2 for delay in set(seen))

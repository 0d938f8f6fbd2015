"""The README's shell blocks, pasted as a user would: twice in a row, and in a new shell."""

import os
import queue
import re
import shutil
import signal
import subprocess
import threading

import httpx
import pytest

from config_service.main import create_app
from config_service.settings import SVC_DIR
from config_service.store.migrations import apply_migrations
from conftest import make_settings
from test.live_server import LiveServer
from test.prometheus import held_requests
from test.waiting import until

README = (SVC_DIR.parent / "README.md").read_text()
RUNTIME = "Fetching configuration from a runtime"
ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def shell_block(title: str, holding: str = "") -> str:
    """The first ```sh block of the README's section `title` that holds `holding`."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    blocks = re.findall(r"```sh\n(.*?)```", README[start:end], re.S)
    return next(block for block in blocks if holding in block)


def pointed_at(block: str, url: str) -> str:
    """The block as it would run against `url` instead of localhost:8000."""
    assert "localhost:8000" in block
    return block.replace("localhost:8000", url.removeprefix("http://"))


@pytest.fixture
def live_url(empty_database):
    if shutil.which("jq") is None:
        pytest.fail("the README's examples need jq: apt-get install jq (Debian/Ubuntu)")
    apply_migrations(empty_database)
    with LiveServer(create_app(make_settings(empty_database))) as server:
        yield server.url


def run_try_it(url: str, cwd) -> str:
    script = pointed_at(shell_block("Try it"), url) + '\necho "CFG=$CFG"\n'
    done = subprocess.run(
        ["bash", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_try_it_runs_twice_and_finds_what_the_first_run_made(live_url, tmp_path):
    first = run_try_it(live_url, tmp_path)
    second = run_try_it(live_url, tmp_path)

    ids = [re.search(r"CFG=(\S*)", output).group(1) for output in (first, second)]
    assert ULID.fullmatch(ids[0]) and ids[0] == ids[1], (first, second)
    for output in (first, second):
        assert "HTTP/1.1 304 Not Modified" in output
        assert '"status":4' not in output.replace(" ", ""), output  # no problem body anywhere
    # Each run flipped dark_mode once through If-Match: back where the first run started.
    configuration = httpx.get(f"{live_url}/api/v1/configurations/{ids[0]}").json()
    assert configuration["config"] == {"database": {"pool_size": 10}, "dark_mode": False}
    assert len(httpx.get(f"{live_url}/api/v1/applications").json()) == 1
    assert list(tmp_path.iterdir()) == []


# The runtime's loops: one configuration's (the first with `while true`), and a whole
# application's; each by the block that holds the text, and the variable naming its id.
LOOPS = {
    "configuration": ("while true", "CFG"),
    "application": ("include=configurations", "APP"),
}


def loop_block(loop: str) -> str:
    return shell_block(RUNTIME, LOOPS[loop][0])


@pytest.mark.parametrize("loop", LOOPS)
def test_the_runtime_loop_refuses_to_start_without_an_id(tmp_path, loop):
    variable = LOOPS[loop][1]
    environment = {key: value for key, value in os.environ.items() if key != variable}
    done = subprocess.run(
        ["bash", "-c", loop_block(loop)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode != 0 and f"set {variable}" in done.stderr
    assert list(tmp_path.iterdir()) == []


def lines_of(stream) -> queue.Queue:
    """The stream's lines as they come, so that a test can wait for one with a bound."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    return lines


@pytest.mark.parametrize("followed", LOOPS)
def test_the_runtime_loop_prints_each_version_and_leaves_no_files(live_url, tmp_path, followed):
    api = f"{live_url}/api/v1"
    application = httpx.post(f"{api}/applications", json={"name": "loop"}).json()
    configuration = httpx.post(
        f"{api}/configurations",
        json={"application_id": application["id"], "name": "c", "config": {"v": 1}},
    ).json()
    ids = {"CFG": configuration["id"], "APP": application["id"]}
    variable = LOOPS[followed][1]
    loop = subprocess.Popen(
        ["bash", "-c", pointed_at(loop_block(followed), live_url)],
        cwd=tmp_path,
        env={**os.environ, variable: ids[variable]},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job would be
        # With Ctrl-C's default action, as in a terminal: a test run started in the background
        # (`make test &`) hands SIGINT down ignored, and the loop would then outlive its Ctrl-C.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    printed = lines_of(loop.stdout)
    metrics = f"{live_url}/metrics"
    try:
        assert '"v":1' in printed.get(timeout=10).replace(" ", "")
        until(
            lambda: held_requests(httpx.get(metrics).content) == 1,
            message="the loop's GET is not held",
        )
        httpx.put(
            f"{api}/configurations/{configuration['id']}", json={"name": "c", "config": {"v": 2}}
        ).raise_for_status()
        assert '"v":2' in printed.get(timeout=10).replace(" ", "")
        # Ctrl-C while curl holds the next GET, as a person presses it. A SIGINT in the instant
        # bash forks curl is lost: curl never sees it, and bash, waiting for curl, goes on when
        # curl does not die of it (bash's "wait and cooperative exit").
        until(
            lambda: held_requests(httpx.get(metrics).content) == 1,
            message="the loop's next GET is not held",
        )
    finally:
        os.killpg(loop.pid, signal.SIGINT)  # Ctrl-C: the subshell's EXIT trap cleans up
        loop.wait(timeout=10)
    assert list(tmp_path.iterdir()) == []

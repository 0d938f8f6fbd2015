"""The README's shell blocks, pasted as a user would: twice in a row, and in a new shell."""

import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time

import httpx
import pytest

from config_service.main import create_app
from config_service.settings import SVC_DIR
from config_service.store.migrations import apply_migrations
from conftest import make_settings
from test.live_server import LiveServer, free_port
from test.nginx import Nginx
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
        assert re.search(r'(?im)^link: <[^>]*after=[^>]*>; rel="next"', output), output
        assert not re.search(r"[}\]]HTTP/1.1", output), output  # each body ends its line
    # Each run flipped dark_mode once through If-Match: back where the first run started.
    configuration = httpx.get(f"{live_url}/api/v1/configurations/{ids[0]}").json()
    assert configuration["config"] == {"database": {"pool_size": 10}, "dark_mode": False}
    names = [a["name"] for a in httpx.get(f"{live_url}/api/v1/applications").json()]
    assert sorted(names) == ["billing", "shipping"]
    assert list(tmp_path.iterdir()) == []


def test_try_it_with_the_service_down_says_so_and_stops(tmp_path):
    script = pointed_at(shell_block("Try it"), f"http://127.0.0.1:{free_port()}")
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "Failed to connect" in done.stderr and "is the service running" in done.stderr
    assert "application" not in done.stdout, done.stdout  # not "application , configuration "


# The runtime's loop follows one configuration, or, after the snippet that sets URL, an
# application read whole: the snippet holding that text (if any), and the variable naming the id.
LOOPS = {"configuration": ("", "CFG"), "application": ("include=configurations", "APP")}


def loop_script(loop: str) -> str:
    holding = LOOPS[loop][0]
    prelude = shell_block(RUNTIME, holding) if holding else ""
    return prelude + shell_block(RUNTIME, "while true")


@pytest.mark.parametrize("loop", LOOPS)
def test_the_runtime_loop_refuses_to_start_without_an_id(tmp_path, loop):
    variable = LOOPS[loop][1]
    environment = {key: value for key, value in os.environ.items() if key not in ("CFG", "APP", "URL")}
    done = subprocess.run(
        ["bash", "-c", loop_script(loop)],
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
        ["bash", "-c", pointed_at(loop_script(followed), live_url)],
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


def test_behind_a_proxy_that_drops_if_none_match_the_loop_says_so_once_and_slows_down(
    live_url, tmp_path
):
    """nginx caching without the recipe (test/nginx.py) answers every held GET 200 at once
    with the ETag sent: the loop must not take that for a change and ask again at once."""
    api = f"{live_url}/api/v1"
    application = httpx.post(f"{api}/applications", json={"name": "proxied"}).json()
    configuration = httpx.post(
        f"{api}/configurations",
        json={"application_id": application["id"], "name": "c", "config": {"v": 1}},
    ).json()
    path = f"/api/v1/configurations/{configuration['id']}"
    with Nginx(int(live_url.rpartition(":")[2])) as nginx:
        loop = subprocess.Popen(
            ["bash", "-c", pointed_at(shell_block(RUNTIME, "while true"), nginx.url)],
            cwd=tmp_path,
            env={**os.environ, "CFG": configuration["id"]},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        printed, said = lines_of(loop.stdout), lines_of(loop.stderr)
        try:
            assert '"v":1' in printed.get(timeout=10).replace(" ", "")
            assert "a proxy dropped If-None-Match" in said.get(timeout=10)
            time.sleep(3)  # within the loop's 5 s pause: without it, over a hundred GETs
            asked = sum(f"GET {path} " in line for line in nginx.access_log())
        finally:
            os.killpg(loop.pid, signal.SIGINT)
            loop.wait(timeout=10)
    assert asked <= 3, asked
    assert said.empty(), "said once"

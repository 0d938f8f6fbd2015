"""The README's rollback pipeline, pasted after its *Try it* block, against a live service."""

import subprocess

import httpx

from test.readme_shell_test import live_url, pointed_at, shell_block

__all__ = ["live_url"]  # the fixture, used by name


def test_the_rollback_pipeline_puts_revision_1_back_as_a_new_revision(live_url, tmp_path):
    try_it = pointed_at(shell_block("Try it"), live_url)
    script = try_it + "\n" + shell_block("History and rollback", "revision=1")
    done = subprocess.run(
        ["bash", "-c", script + '\necho "CFG=$CFG"\n'],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    configuration_id = done.stdout.rsplit("CFG=", 1)[1].strip()
    path = f"{live_url}/api/v1/configurations/{configuration_id}"

    # Try it flipped dark_mode once; the rollback put revision 1 back, as revision 3.
    first = httpx.get(f"{path}?revision=1")
    now = httpx.get(path)
    assert (now.headers["revision"], now.content) == ("3", first.content)
    assert [entry["revision"] for entry in httpx.get(f"{path}?history").json()] == [3, 2, 1]
    assert '"status":4' not in done.stdout.replace(" ", ""), done.stdout  # no problem body

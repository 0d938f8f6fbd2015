import asyncio
import logging
import os
import signal

import pytest
from test.tokens import FileToken, write_tokens_file

from config_service.access.reload import TokenSource

FIRST = FileToken("first", "read", ("*",))
SECOND = FileToken("second", "write", ("payments-*",))


@pytest.fixture
def path(tmp_path):
    return write_tokens_file(tmp_path / "tokens.toml", FIRST)


def known(source: TokenSource, token: FileToken) -> bool:
    return source.table.find(token.secret.encode()) is not None


def test_a_changed_file_is_reread_and_an_unchanged_one_is_not(path):
    source = TokenSource(path)
    assert known(source, FIRST) and not known(source, SECOND)
    assert source.reload_if_changed() is False
    write_tokens_file(path, SECOND)
    assert source.reload_if_changed() is True
    assert known(source, SECOND) and not known(source, FIRST)


def test_a_broken_file_keeps_the_tokens_in_force_and_logs_why(path, caplog):
    source = TokenSource(path)
    path.write_text(FIRST.toml() + 'role = "admin"\n')  # a second `role`: not TOML
    with caplog.at_level(logging.ERROR, logger="config_service.access.reload"):
        assert source.reload() is False
    assert known(source, FIRST)
    assert "not reloaded, the tokens in force stay" in caplog.text
    assert FIRST.digest not in caplog.text
    assert source.reload_if_changed() is False  # logged once, not at every check


def test_a_deleted_file_keeps_the_tokens_in_force(path):
    source = TokenSource(path)
    path.unlink()
    assert source.reload_if_changed() is False
    assert known(source, FIRST)


def test_environment_tokens_survive_every_reload(path):
    source = TokenSource(path, write_tokens=frozenset({"env-secret"}))
    write_tokens_file(path, SECOND)
    source.reload()
    assert source.table.find(b"env-secret").caller.scope.everything


def test_it_says_how_many_tokens_are_in_force_and_from_where(path):
    source = TokenSource(path, write_tokens=frozenset({"env-secret"}))
    assert source.in_force() == (
        f"2 token(s) in force: 1 from API_TOKENS_FILE {path}, "
        "1 from API_READ_TOKENS/API_WRITE_TOKENS"
    )
    write_tokens_file(path, FIRST, SECOND)
    source.reload()
    assert source.in_force().startswith("3 token(s) in force: 2 from API_TOKENS_FILE")
    only_environment = TokenSource(None, read_tokens=frozenset({"a", "b"}))
    assert only_environment.in_force() == (
        "2 token(s) in force: 2 from API_READ_TOKENS/API_WRITE_TOKENS"
    )


def test_without_a_file_there_is_nothing_to_reload():
    source = TokenSource(None, read_tokens=frozenset({"env-secret"}))
    assert source.reload() is False and source.reload_if_changed() is False


async def eventually(condition, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


def test_while_reloading_sighup_and_changes_are_both_heard(path):
    source = TokenSource(path)

    async def scenario():
        async with source.reloading(interval=0.05):
            write_tokens_file(path, FIRST, SECOND)
            os.utime(path, ns=(0, 0))  # the stamp still differs (size, inode)
            await eventually(lambda: known(source, SECOND))
            # SIGHUP rereads at once, even when the stamp looks unchanged.
            stamp = os.stat(path)
            path.write_text(FIRST.toml())
            os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
            source._stamp = (stamp.st_mtime_ns, os.stat(path).st_size, os.stat(path).st_ino)
            os.kill(os.getpid(), signal.SIGHUP)
            await eventually(lambda: not known(source, SECOND))

    asyncio.run(scenario())

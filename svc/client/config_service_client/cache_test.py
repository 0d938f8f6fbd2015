"""The disk cache: what it writes comes back; anything else is ignored, never trusted."""

import json
import logging
import os

import pytest
from dataclasses import replace

from config_service_client.cache import CachedVersion, DiskCache

VERSION = CachedVersion("id:A", "A", '"etag"', 3, {"k": [1, "ü"]}, "2025-01-01T00:00:00+00:00")


def test_what_is_written_is_read_back_and_no_temporary_file_is_left(tmp_path):
    cache = DiskCache(tmp_path / "new", "id:A")
    cache.write(VERSION)
    assert cache.read() == VERSION and VERSION.age() > 0
    assert [path.name for path in (tmp_path / "new").iterdir()] == [cache.path.name]


def test_a_file_truncated_mid_write_is_never_read_as_valid(tmp_path, caplog):
    cache = DiskCache(tmp_path, "id:A")
    cache.write(VERSION)
    whole = cache.path.read_bytes()
    for length in range(len(whole)):  # every prefix a crash could leave behind
        cache.path.write_bytes(whole[:length])
        assert cache.read() is None
    assert "ignoring the cache file" in caplog.text


def test_a_crash_before_the_rename_keeps_the_previous_version(tmp_path, monkeypatch):
    cache = DiskCache(tmp_path, "id:A")
    cache.write(VERSION)
    monkeypatch.setattr(os, "replace", lambda *_: (_ for _ in ()).throw(OSError("crash")))
    with pytest.raises(OSError):
        cache.write(replace(VERSION, etag='"newer"'))
    assert cache.read() == VERSION and len(list(tmp_path.iterdir())) == 1


def edited(cache: DiskCache, **changes) -> None:
    content = json.loads(cache.path.read_text())
    cache.path.write_text(json.dumps(content | changes))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"config": {"k": "tampered"}}, "checksum does not match"),
        ({"format": "other/1"}, "not a cache file of this client"),
    ],
)
def test_corrupt_or_foreign_files_are_ignored_with_a_warning(tmp_path, caplog, changes, reason):
    cache = DiskCache(tmp_path, "id:A")
    cache.write(VERSION)
    edited(cache, **changes)
    with caplog.at_level(logging.WARNING):
        assert cache.read() is None
    assert reason in caplog.text


def test_a_foreign_key_in_a_well_formed_file_is_refused(tmp_path, caplog):
    DiskCache(tmp_path, "id:B").write(replace(VERSION, key="id:B"))
    other = DiskCache(tmp_path, "id:A")
    other.path = DiskCache(tmp_path, "id:B").path  # the other follower's file
    assert other.read() is None and "caches 'id:B'" in caplog.text


def test_fields_of_the_wrong_type_are_refused_even_with_a_matching_checksum(tmp_path, caplog):
    cache = DiskCache(tmp_path, "id:A")
    cache.write(replace(VERSION, fetched_at="yesterday"))
    assert cache.read() is None and "wrong type" in caplog.text
    cache.write(replace(VERSION, config=[1]))
    assert cache.read() is None


def test_an_unreadable_file_is_ignored(tmp_path, caplog):
    cache = DiskCache(tmp_path, "id:A")
    cache.path.write_bytes(b"\xff\xfe")
    assert cache.read() is None and "ignoring" in caplog.text
    assert DiskCache(tmp_path / "missing", "id:A").read() is None

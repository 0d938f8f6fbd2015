"""Store's own file handling (registry_test.py covers scrapes across worker processes)."""

import os
import struct

from config_service.telemetry.registry import Registry
from config_service.telemetry.store import CONTENT_TYPE, HEADER, MAGIC
from test.prometheus import at, read_samples


def declare() -> tuple[Registry, object, object]:
    registry = Registry()
    hits = registry.counter("hits_total", "Hits.", {"route": ["/a", "/b"]})
    held = registry.gauge("held", "Held.")
    return registry, hits, held


def test_a_store_writes_its_file_in_the_directory_with_header_and_values(tmp_path):
    registry, hits, _ = declare()
    store = registry.open(tmp_path / "metrics", slot=3, version="test")
    hits.inc("/b", amount=4)
    path = tmp_path / "metrics" / f"worker-3-{os.getpid()}.metrics"
    data = path.read_bytes()  # the mapped file itself, not a copy in memory
    assert data[:8] == MAGIC and len(data) == HEADER.size + 8 * 3
    assert struct.unpack_from("=3d", data, HEADER.size) == (0.0, 4.0, 0.0)  # /a, /b, held
    assert at(read_samples(store.render()), "hits_total", route="/b") == 4
    assert not list((tmp_path / "metrics").glob("*.partial"))
    store.close()
    assert path.exists()  # its counts still count after close


def test_two_live_stores_in_one_directory_are_summed(tmp_path):
    first, first_hits, first_held = declare()
    second, second_hits, second_held = declare()
    one = first.open(tmp_path, slot=0, version="test")
    two = second.open(tmp_path, slot=1, version="test")
    first_hits.inc("/a", amount=2)
    second_hits.inc("/a", amount=5)
    first_held.set(value=1)
    second_held.set(value=3)
    for store in (one, two):
        samples = read_samples(store.render())
        assert at(samples, "hits_total", route="/a") == 7
        assert at(samples, "hits_total", route="/b") == 0
        assert at(samples, "held") == 4
    one.close()
    two.close()


def test_the_content_type_is_the_text_exposition_format():
    assert CONTENT_TYPE.startswith("text/plain; version=0.0.4")

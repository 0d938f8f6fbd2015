"""Where a worker keeps its metrics, and the scrape that sums every worker's.

Every worker declares the same families at start-up, so every worker computes the same
layout: one float64 per counter or gauge series, and per histogram series a count per bucket
then the sum. A worker keeps its values in its own memory-mapped file in a shared directory,
`worker-{slot}-{pid}.metrics`, with plain stores; a scrape, answered by any worker, reads
every file there and sums. A dead worker's file stays, so counters never go backwards when the
supervisor restarts a worker; gauges count live workers only. The worker that takes a dead
one's place takes over its file too, counters and all: however often a worker is restarted,
each slot keeps one file.
"""

import mmap
import os
import re
import struct
import time
from collections.abc import Sequence
from pathlib import Path

from config_service.telemetry.families import (
    BUILD_INFO,
    CLOSED,
    CPU_SECONDS,
    MAX_FDS,
    OPEN_FDS,
    PROCESS,
    RESIDENT_MEMORY,
    START_TIME,
    VIRTUAL_MEMORY,
    Family,
    FamilyInfo,
    Gauge,
    Scrape,
    Worker,
    header_lines,
    sample_line,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# A file: magic, layout fingerprint, the worker's start time (unix seconds), then the values.
HEADER = struct.Struct("=8s8sd")
MAGIC = b"cfgsvc01"
FILE_NAME = re.compile(r"worker-(?P<slot>\d+)-(?P<pid>\d+)\.metrics")


class Store:
    """This worker's values, and the scrape that reads every worker's."""

    def __init__(
        self,
        families: Sequence[Family],
        directory: Path | None,
        slot: int,
        version: str,
        fingerprint: bytes,
        size: int,
    ):
        self._families = families
        self._directory = directory
        self._version = version
        self._fingerprint = fingerprint
        self._size = size
        self._file_size = HEADER.size + 8 * size
        self._file_name = f"worker-{slot}-{os.getpid()}.metrics"
        header = HEADER.pack(MAGIC, fingerprint, time.time())
        if directory is None:
            self._buffer: mmap.mmap | bytearray = bytearray(header) + bytes(8 * size)
        else:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / self._file_name
            predecessor = self._predecessor(directory, slot)
            if predecessor is None:
                self._buffer = _map_new_file(path, header, self._file_size)
            else:
                self._buffer = self._take_over(predecessor, path, header)
        self._values = memoryview(self._buffer)[HEADER.size :].cast("d")
        for family in families:
            family.bind(self._values)

    def _predecessor(self, directory: Path, slot: int) -> Path | None:
        """A dead worker's file of this slot and layout, if there is one."""
        for path in directory.glob(f"worker-{slot}-*.metrics"):
            worker = self._worker(path.name, _read(path))
            if worker is not None and not _alive(worker.pid):
                return path
        return None

    def _take_over(self, predecessor: Path, path: Path, header: bytes) -> mmap.mmap:
        """Carry on a dead worker's counts: its gauges zeroed (they were its own), its file
        renamed to this worker's. Until the rename a scrape reads it as a dead worker's file,
        after it as this one's: the counters are counted once all along."""
        with open(predecessor, "r+b") as file:
            mapped = mmap.mmap(file.fileno(), self._file_size)
        values = memoryview(mapped)[HEADER.size :].cast("d")
        for family in self._families:
            if isinstance(family, Gauge):
                for offset in family.offsets():
                    values[offset] = 0.0
        values.release()
        mapped[: HEADER.size] = header
        predecessor.rename(path)
        return mapped

    def render(self) -> bytes:
        """The whole service's metrics in the text exposition format, from every worker's file."""
        workers = self._workers()
        # Should a reused pid make two live files claim one slot, the newer file stands for it.
        by_start = sorted(workers, key=lambda worker: worker.start_time)
        live_by_slot = {worker.slot: worker for worker in by_start if _alive(worker.pid)}
        live = sorted(live_by_slot.values(), key=lambda worker: worker.slot)
        scrape = Scrape(_sum(workers, self._size), _sum(live, self._size), live)
        lines = [line for family in self._families for line in family.lines(scrape)]
        lines += _built_in_lines(live, self._version)
        return ("\n".join(lines) + "\n").encode()

    def close(self) -> None:
        """Unmap this worker's file; the file stays, as its counters still count."""
        for family in self._families:
            family.bind(CLOSED)  # their writes now raise instead of touching freed memory
        self._values.release()
        if isinstance(self._buffer, mmap.mmap):
            self._buffer.close()

    def _workers(self) -> list[Worker]:
        if self._directory is None:
            files = [(self._file_name, bytes(self._buffer))]
        else:
            files = [(path.name, _read(path)) for path in self._directory.iterdir()]
        workers = (self._worker(name, data) for name, data in files)
        return [worker for worker in workers if worker]

    def _worker(self, file_name: str, data: bytes | None) -> Worker | None:
        """The worker a file describes, or None when it is not one of this layout's files."""
        name = FILE_NAME.fullmatch(file_name)
        if not name or not data or len(data) != self._file_size:
            return None
        magic, fingerprint, start_time = HEADER.unpack_from(data)
        if (magic, fingerprint) != (MAGIC, self._fingerprint):
            return None
        values = memoryview(data)[HEADER.size :].cast("d")
        return Worker(int(name["slot"]), int(name["pid"]), start_time, values)


def _map_new_file(path: Path, header: bytes, size: int) -> mmap.mmap:
    """Write the file under another name, then rename it: a scrape never sees half a file."""
    partial = path.with_suffix(".partial")
    with open(partial, "w+b") as file:
        file.write(header)
        file.truncate(size)
        mapped = mmap.mmap(file.fileno(), size)
    partial.rename(path)
    return mapped


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:  # removed meanwhile, or not a file
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process, e.g. a worker running as another user
        return True
    return True


def _sum(workers: Sequence[Worker], size: int) -> list[float]:
    totals = [0.0] * size
    for worker in workers:
        totals = [total + value for total, value in zip(totals, worker.values)]
    return totals


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _process_values(pid: int) -> dict[FamilyInfo, float] | None:
    """What /proc says of a live worker, as the client libraries read it; None once it is gone."""
    try:
        # proc(5): the fields after the command name, which may hold spaces and parentheses.
        stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        open_fds = len(os.listdir(f"/proc/{pid}/fd"))
        limits = Path(f"/proc/{pid}/limits").read_text()
    except OSError:
        return None
    max_fds = next(
        (line.split()[3] for line in limits.splitlines() if line.startswith("Max open files")),
        "unlimited",
    )
    return {
        CPU_SECONDS: (int(stat[11]) + int(stat[12])) / CLOCK_TICKS,  # utime + stime
        VIRTUAL_MEMORY: float(stat[20]),  # vsize, in bytes
        RESIDENT_MEMORY: float(int(stat[21]) * mmap.PAGESIZE),  # rss, in pages
        OPEN_FDS: float(open_fds),
        MAX_FDS: float("inf") if max_fds == "unlimited" else float(max_fds),  # the soft limit
    }


def _built_in_lines(live: Sequence[Worker], version: str) -> list[str]:
    samples: dict[FamilyInfo, list[str]] = {info: [] for info in (*PROCESS, BUILD_INFO)}
    for worker in live:
        label = [("worker", str(worker.slot))]
        samples[START_TIME].append(sample_line(START_TIME.name, label, worker.start_time))
        for info, value in (_process_values(worker.pid) or {}).items():  # {}: it just exited
            samples[info].append(sample_line(info.name, label, value))
    samples[BUILD_INFO].append(sample_line(BUILD_INFO.name, [("version", version)], 1))
    return [line for info, lines in samples.items() for line in [*header_lines(info), *lines]]

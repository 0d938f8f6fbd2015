"""Running wrk and reading its report."""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# The same settings for every scenario: one wrk thread, 32 keep-alive connections.
THREADS, CONNECTIONS = 1, 32
# Short runs, repeated: three 5 s runs interleaved with the compared server's say more about
# a noisy machine than one 10 s run, and keep `make bench` under 10 minutes.
WARM_UP_SECONDS, MEASURE_SECONDS = 1, 5

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx_3xx: int
    socket_errors: int


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * UNITS[unit]


def parse(report: str) -> Result:
    """The numbers of a `wrk --latency` report."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", report)
    # wrk pads a value in seconds with a trailing space ("99%    1.20s ").
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", report, re.MULTILINE))
    if rate is None or len(percentiles) < 2:
        raise ValueError(f"not a wrk --latency report:\n{report}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", report)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report
    )
    return Result(
        requests_per_second=float(rate.group(1)),
        p50_ms=_milliseconds(percentiles["50"]),
        p99_ms=_milliseconds(percentiles["99"]),
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(map(int, errors.groups())) if errors else 0,
    )


def run(base_url: str, script: Path, seconds: int = MEASURE_SECONDS) -> Result:
    """Load `base_url` with the requests `script` makes, for `seconds`."""
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
        base_url,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse(completed.stdout)

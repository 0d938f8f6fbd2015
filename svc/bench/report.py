"""The benchmark's table and its targets, as ratios to the baseline measured in the same run."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bench.wrk import Result

BASELINE = "baseline GET (1 worker)"
GET_CONFIGURATION = "GET configuration"
GET_APPLICATION = "GET application"
LIST_APPLICATIONS = "GET application list"
CONDITIONAL_GET = "conditional GET (304)"
POST_CONFIGURATION = "POST configuration"
PUT_CONFIGURATION = "PUT configuration"
TWO_WORKERS = "GET configuration, 2 workers"
TWO_WORKERS_PLAIN = "GET configuration, 2 workers, plain uvicorn"


@dataclass(frozen=True)
class Memory:
    after_warm_up_kb: int
    at_end_kb: int


ORDER = [
    BASELINE,
    GET_CONFIGURATION,
    GET_APPLICATION,
    LIST_APPLICATIONS,
    CONDITIONAL_GET,
    POST_CONFIGURATION,
    PUT_CONFIGURATION,
    TWO_WORKERS,
    TWO_WORKERS_PLAIN,
]


def table(results: Mapping[str, Result]) -> str:
    """The results in ORDER (not the order they were measured in)."""
    baseline = results[BASELINE].requests_per_second
    lines = [
        f"| {'scenario':<44} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | {'non-2xx':>7} "
        f"| {'errors':>6} | {'× baseline':>10} |",
        "|"
        + "-" * 46
        + "|"
        + "|".join("-" * (width - 1) + ":" for width in (10, 9, 9, 9, 8, 12))
        + "|",
    ]
    for name in ORDER:
        result = results[name]
        lines.append(
            f"| {name:<44} | {result.requests_per_second:>8.0f} | {result.p50_ms:>7.2f} "
            f"| {result.p99_ms:>7.2f} | {result.non_2xx_3xx:>7} | {result.socket_errors:>6} "
            f"| {result.requests_per_second / baseline:>9.2f}× |"
        )
    return "\n".join(lines)


def _ratio(results: Mapping[str, Result], name: str, minimum: float, of: str = BASELINE):
    def check() -> tuple[bool, str]:
        ratio = results[name].requests_per_second / results[of].requests_per_second
        return ratio >= minimum, f"{ratio:.2f}×"

    return check


def targets(results: Mapping[str, Result], memory: Memory) -> list[tuple[str, bool, str]]:
    """(target, met, measured) for every target of the read-path issue."""

    def p99_check() -> tuple[bool, str]:
        ours, theirs = results[GET_CONFIGURATION].p99_ms, results[BASELINE].p99_ms
        return ours <= theirs, f"{ours:.2f} ms vs {theirs:.2f} ms"

    def clean_check() -> tuple[bool, str]:
        bad = {
            n: r.non_2xx_3xx + r.socket_errors for n, r in results.items() if n != TWO_WORKERS_PLAIN
        }
        failing = {n: count for n, count in bad.items() if count}
        return not failing, ", ".join(f"{n}: {c}" for n, c in failing.items()) or "none"

    def memory_check() -> tuple[bool, str]:
        growth = memory.at_end_kb / memory.after_warm_up_kb - 1
        return abs(growth) <= 0.10, (
            f"{memory.after_warm_up_kb / 1024:.1f} MiB → {memory.at_end_kb / 1024:.1f} MiB "
            f"({growth:+.1%})"
        )

    checks: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
        ("GET configuration ≥ 1.0× baseline req/s", _ratio(results, GET_CONFIGURATION, 1.0)),
        ("GET configuration p99 ≤ baseline p99", p99_check),
        ("GET application ≥ 0.9× baseline", _ratio(results, GET_APPLICATION, 0.9)),
        ("conditional GET (304) ≥ 1.5× baseline", _ratio(results, CONDITIONAL_GET, 1.5)),
        ("POST configuration ≥ 0.5× baseline", _ratio(results, POST_CONFIGURATION, 0.5)),
        ("PUT configuration ≥ 0.5× baseline", _ratio(results, PUT_CONFIGURATION, 0.5)),
        ("no non-2xx/3xx and no socket errors", clean_check),
        (
            "2 workers ≥ 1.5× 1 worker (GET configuration)",
            _ratio(results, TWO_WORKERS, 1.5, GET_CONFIGURATION),
        ),
        ("resident memory at end within 10% of after warm-up", memory_check),
    ]
    return [(name, *check()) for name, check in checks]


def verdict_lines(outcomes: list[tuple[str, bool, str]]) -> str:
    return "\n".join(
        f"{'PASS' if met else 'FAIL'}  {name}: {measured}" for name, met, measured in outcomes
    )

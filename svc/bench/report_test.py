import pytest

from bench import report
from bench.faults import Frozen
from bench.soak import Answer, Soak
from bench.report import HeldRound, Measurements, Target
from bench.wrk import Result


def result(rate: float, p99: float = 10.0, errors: int = 0) -> Result:
    return Result(rate, p50_ms=5.0, p99_ms=p99, non_2xx_3xx=errors, socket_errors=0)


def rounds(*rates: float, p99: float = 10.0) -> list[Result]:
    return [result(rate, p99) for rate in rates]


def held(kb: float, ms: float, **fields) -> HeldRound:
    values = {"wanted": 10_000, "held": 10_000, "errors": 0, "kb_per_held": kb}
    return HeldRound(**(values | {"answer_all_ms": ms} | fields))


def all_good(**overrides) -> Measurements:
    """Every scenario measured, every target met."""
    wrk = {
        report.BASELINE: rounds(1000, 1000, 1000, p99=20),
        report.GET_CONFIGURATION: rounds(2000, 2100, 1900, p99=12),
        report.GET_CONFIGURATION_UNCACHED: rounds(950, 950, 950),
        report.GET_REVISION: rounds(1900, 1900, 1900),
        report.NO_WATCHDOG_GET: rounds(960, 950, 940),
        report.HEALTH: rounds(2200, 2200, 2200),
        report.CONSTANT: rounds(2200, 2200, 2200),
        report.NO_METRICS: rounds(2000, 2100, 1900),
        report.GET_APPLICATION: rounds(1700, 1700, 1700),
        report.GET_APPLICATION_UNCACHED: rounds(900),
        report.LIST_APPLICATIONS: rounds(500),
        report.CONDITIONAL_GET: rounds(3000),
        report.TWO_WORKERS: rounds(3200, 3200, 3200),
        report.TWO_WORKERS_PLAIN: [result(600, errors=3)],
        report.BASELINE_WRITES: rounds(1000, 900, 1100),
        report.POST_CONFIGURATION: rounds(600, 600, 600),
        report.PUT_CONFIGURATION: rounds(600, 600, 600),
        report.WATCHDOG_PUT: rounds(590, 600, 600),
        report.NO_WATCHDOG_PUT: rounds(610, 600, 590),
        report.NONE_HELD: rounds(2000, 2000, 2000),
        report.WHILE_HELD: rounds(1800, 1800, 1800),
        report.TOKEN_GLOBAL: rounds(2000, 2000, 2000, p99=12),
        report.TOKEN_SCOPED: rounds(1980, 2010, 1990, p99=11),
        report.LIST_GLOBAL: rounds(500, 500, 500),
        report.LIST_SCOPED: rounds(480, 470, 490),
        report.GET_CONFIGURATION_GZIP: rounds(1990, 2100, 1900),
        report.GET_LARGE: rounds(300, 310, 290),
        report.GET_LARGE_GZIP: rounds(900, 950, 880),
        report.PUT_UNATTACHED: rounds(600, 600, 600),
        report.PUT_ATTACHED: rounds(580, 590, 570),
        report.GET_UNATTACHED: rounds(2000, 2000, 2000),
        report.GET_ATTACHED: rounds(1990, 2000, 2010),
        report.BESIDE_WHOLE: rounds(2000, 2000, 2000),
        report.GET_APPLICATION_WHOLE: rounds(1700, 1800, 1600),
    }
    measured = Measurements(
        wrk=wrk,
        hits_and_misses=(990, 10),
        churn=report.Churn(100_000, 16 << 20, 60_000, 90_000, result(900)),
        floors={
            report.FLOOR_FASTAPI: [held(10, 400), held(10, 400), held(10, 400)],
            report.FLOOR_ASGI: [held(5, 200)],
            report.FLOOR_BESIDE_APPLICATIONS: [held(10, 400)] * 3,
        },
        watch=[held(12, 500, db_reads=1)] * 3,
        application_watch=[held(12.5, 520, db_reads=1)] * 3,
        propagation=report.Propagation(tuple(float(n % 10) for n in range(200)), 0, 0),
        frozen=stalled(),
        soak=Soak(answers=[Answer("held", 304, 3.0)], recovery={"PostgreSQL stopped": 0.5}),
        schema_verdicts={409: 0.3, 200: 0.3},
        watchdog_ratios={"read": [1.0, 0.99, 1.01], "write": [1.0, 1.0, 0.98]},
        wire_bytes={report.GET_LARGE: 1_000_500, report.GET_LARGE_GZIP: 70_500},
    )
    for name, value in overrides.items():
        setattr(measured, name, value)
    return measured


def stalled(slowest: float = 2.6, recovery: float | None = 0.3, **statuses: int) -> Frozen:
    counts = {int(status.removeprefix("s")): n for status, n in statuses.items()} or {503: 200}
    return Frozen(2.0, (0.1,) * 199 + (slowest,), counts, 200, recovery)


def verdicts(measured: Measurements) -> dict[str, str]:
    return {target.name: target.verdict for target in report.targets(measured)}


def test_all_targets_met():
    outcomes = report.targets(all_good())
    assert [t.line() for t in outcomes if t.verdict != "PASS"] == []
    assert len(outcomes) == 44
    assert not report.failed(outcomes)


def test_a_median_that_misses_is_noise_when_the_best_round_meets_it():
    measured = all_good()
    measured.wrk[report.GET_CONFIGURATION] = rounds(1700, 1700, 1900)
    assert verdicts(measured)["GET configuration ≥ 1.8× baseline req/s"] == "NOISE"
    assert not report.failed(report.targets(measured))


def test_a_target_that_even_the_best_round_misses_fails():
    measured = all_good()
    measured.wrk[report.PUT_CONFIGURATION] = rounds(300, 300, 340)  # best: 340/900, 0.38×
    outcomes = report.targets(measured)
    put = "PUT configuration ≥ 0.42× baseline req/s (0.9× the release before revisions)"
    assert verdicts(measured)[put] == "FAIL"
    assert report.failed(outcomes)


def test_rounds_are_compared_with_the_reference_of_the_same_round():
    # Round 2's baseline was slow; so was the service: the ratio is steady.
    assert report.ratios([2000, 1000, 2000], [1000, 500, 1000]) == [2.0, 2.0, 2.0]
    # Measured once against three rounds: against their median.
    assert report.ratios([900], [1000, 800, 2000]) == [0.9]


def test_at_most_targets_and_their_lines():
    target = Target("p99", (0.8, 1.1, 0.9), 1.0, at_most=True, detail="12 ms vs 14 ms")
    assert target.verdict == "PASS"
    assert target.line() == "PASS   p99: 0.90× (median; 0.80×–1.10×); 12 ms vs 14 ms"
    assert Target("t", (60.0,), 50, at_most=True, unit="ms").line() == "FAIL   t: 60.0 ms"
    assert Target("t", (), 1, detail="why").line() == "SKIP   t: why"


def test_skipped_parts_say_why_and_do_not_fail():
    measured = all_good(watch=[], propagation=None, skipped={"watch": "no Prefer: wait"})
    measured.wrk.pop(report.WHILE_HELD)
    outcomes = report.targets(measured)
    skipped = [t for t in outcomes if t.verdict == "SKIP"]
    assert len(skipped) == 8  # an application watch's memory is compared with a configuration's
    assert all("no Prefer: wait" in t.line() for t in skipped)
    assert not report.failed(outcomes)


def test_errors_fail_except_on_the_plain_uvicorn_reference():
    name = "no errors (non-2xx/3xx, socket errors) in any wrk scenario or propagation round"
    assert verdicts(all_good())[name] == "PASS"  # plain uvicorn's 3 errors do not count
    measured = all_good(propagation=report.Propagation((1.0,), missed=0, errors=2))
    measured.wrk[report.POST_CONFIGURATION] = [result(600, errors=1)] * 3
    target = next(t for t in report.targets(measured) if t.name == name)
    assert target.verdict == "FAIL"
    assert target.detail == "POST configuration: 3, propagation: 2"


def test_churn_growth_is_held_to_the_cache_budget_plus_overhead():
    within = report.Churn(100_000, 16 << 20, 60_000, 60_000 + 40 * 1024, result(900))
    beyond = report.Churn(100_000, 16 << 20, 60_000, 60_000 + 41 * 1024, result(900))
    title = "RSS growth under churn ≤ READ_CACHE_BYTES + 24 MiB"
    assert verdicts(all_good(churn=within))[title] == "PASS"
    assert verdicts(all_good(churn=beyond))[title] == "FAIL"


def test_watch_targets_compare_with_the_floor_round_by_round():
    fan_out = "watch fan-out: all 10,000 answered after one PUT in ≤ 1.5× the FastAPI floor's time"
    reads = "watch fan-out: database reads per wake ≤ 1 per worker"
    slow = [held(12, 700, db_reads=1), held(12, 500, db_reads=1), held(12, 800, db_reads=2)]
    assert verdicts(all_good(watch=slow))[fan_out] == "NOISE"  # 1.75×, 1.25×, 2×
    assert verdicts(all_good(watch=slow))[reads] == "PASS"  # median 1
    slower = [held(12, 700, db_reads=2)] * 3
    assert verdicts(all_good(watch=slower))[fan_out] == "FAIL"
    assert verdicts(all_good(watch=slower))[reads] == "FAIL"
    refused = [held(12, 500, held=9_999, db_reads=1)] * 3
    title = "10,000 held on 1 worker: all held, no errors, none answered stale"
    assert verdicts(all_good(watch=refused))[title] == "FAIL"


def test_propagation_percentiles():
    propagation = report.Propagation(tuple(float(n) for n in range(1, 101)), 0, 0)
    assert (propagation.percentile(50), propagation.percentile(99)) == (50.0, 99.0)
    assert report.Propagation((7.0,), 0, 0).percentile(99) == 7.0


def test_the_table_is_aligned_and_shows_every_scenario():
    lines = report.table(all_good()).splitlines()
    assert lines[0].startswith("| scenario ")
    assert len({len(line) for line in lines}) == 1, "columns are padded to one width"
    # wrk rows, churn, propagation, 3 floors + 2 watches, faults, soak, watchdog
    assert len(lines) == 2 + 34 + 1 + 1 + 5 + 3
    get = next(line for line in lines if line.startswith("| GET configuration  "))
    cells = [cell.strip() for cell in get.strip("|").split("|")]
    assert cells[1:3] == ["2000", "1900–2100"]
    assert cells[6] == "read model hit ratio 99.0% over the reads"
    assert cells[7] == "2.00× baseline"
    post = next(line for line in lines if line.startswith("| POST configuration "))
    assert post.rstrip(" |").endswith("0.60× baseline")  # against the write rounds' baseline
    watch = next(line for line in lines if line.startswith("| watch: 10,000 held"))
    assert "memory 1.20×, time 1.25× floor" in watch


@pytest.mark.parametrize("missing", [report.BASELINE, report.GET_CONFIGURATION])
def test_a_missing_reference_skips_instead_of_crashing(missing):
    measured = all_good(skipped={"read": "--only write"})
    del measured.wrk[missing]
    assert verdicts(measured)["GET configuration ≥ 1.8× baseline req/s"] == "SKIP"
    report.table(measured)


def test_a_scoped_token_slower_than_the_global_one_fails():
    measured = all_good()
    measured.wrk[report.TOKEN_SCOPED] = rounds(1700, 1700, 1700, p99=20)
    outcome = verdicts(measured)
    assert outcome["scoped token ≥ 0.95× global token req/s (GET configuration)"] == "FAIL"
    assert outcome["scoped token p99 ≤ global token p99 (GET configuration)"] == "FAIL"


def test_a_stalled_database_is_held_to_its_bound_its_statuses_and_its_recovery():
    bound = "PostgreSQL stalled: each request needing it answered within"
    only_503 = "PostgreSQL stalled: every such request answered 503, a GET from memory 200"
    recovered = "PostgreSQL stalled: a write and a fresh read succeed ≤ 2 s after the stall ends"

    def verdict(frozen: Frozen, title: str) -> str:
        [found] = [
            v for name, v in verdicts(all_good(frozen=frozen)).items() if name.startswith(title)
        ]
        return found

    assert verdict(stalled(), bound) == "PASS"
    assert verdict(stalled(slowest=3.2), bound) == "FAIL"
    assert verdict(stalled(s503=199, s500=1), only_503) == "FAIL"
    assert verdict(stalled(recovery=None), recovered) == "FAIL"
    assert verdict(stalled(recovery=2.5), recovered) == "FAIL"
    row = report._frozen_row(stalled())
    assert row[4] == "2600 (max)" and "200× 503" in row[6] and "recovered in 0.30 s" in row[6]
    skipped = all_good(frozen=None, skipped={"faults": "--only read"})
    assert [v for n, v in verdicts(skipped).items() if n.startswith("PostgreSQL")] == ["SKIP"] * 3


def test_the_watchdog_is_compared_with_the_same_service_without_it():
    title = "DB_CALL_WATCHDOG=true ≥ 0.97× false req/s (PUT configuration)"
    assert verdicts(all_good())[title] == "PASS"
    measured = all_good()
    measured.wrk[report.NO_WATCHDOG_PUT] = rounds(700, 700, 700)  # 0.86×
    assert verdicts(measured)[title] == "FAIL"


def test_the_soak_fails_on_a_lost_write_a_bad_status_an_overdue_answer_or_no_recovery():
    def failing(measured_soak: Soak) -> list[str]:
        outcomes = report.targets(all_good(soak=measured_soak))
        return [t.name for t in outcomes if t.verdict == "FAIL"]

    assert failing(Soak(answers=[Answer("read", 200, 0.1)], recovery={"x": 0.1})) == []
    lost = Soak(recovery={"x": 0.1}, lost_writes=["configuration a: v4 acknowledged, v3 stored"])
    assert failing(lost) == ["soak: no acknowledged write lost (nor applied twice)"]
    bad = Soak(answers=[Answer("read", 500, 0.1), Answer("held", 304, 60.0)], recovery={"x": None})
    assert len(failing(bad)) == 3
    row = report._soak_row(bad)
    assert row[4] == "60000 (max held)" and "x never" in row[6]
    assert "PASS" in [t.verdict for t in report.targets(all_good()) if "bare reads" in t.name]


def test_compression_is_held_to_its_bytes_and_shown_with_them():
    measured = all_good()
    title = "1 MB configuration with Accept-Encoding: gzip: ≥ 5× fewer bytes on the wire"
    assert verdicts(measured)[title] == "PASS"
    measured.wire_bytes[report.GET_LARGE_GZIP] = 250_000  # only 4×
    assert verdicts(measured)[title] == "FAIL"
    assert "1,000,500 bytes per answer on the wire" in report.table(measured)
    assert verdicts(all_good(wire_bytes={}))[title] == "SKIP"


def test_schema_targets_compare_attached_with_unattached_and_bound_the_verdict():
    def result(rate):
        return Result(
            requests_per_second=rate, p50_ms=1.0, p99_ms=1.0, non_2xx_3xx=0, socket_errors=0
        )

    measured = report.Measurements()
    measured.wrk = {
        report.PUT_UNATTACHED: [result(100)],
        report.PUT_ATTACHED: [result(85)],
        report.GET_UNATTACHED: [result(1000)],
        report.GET_ATTACHED: [result(990)],
    }
    measured.schema_verdicts = {409: 0.4, 200: 1.2}
    put, get, verdict = report._schema_targets(measured)
    assert (put.verdict, get.verdict, verdict.verdict) == ("FAIL", "PASS", "FAIL")
    assert "409: 0.40 s" in verdict.detail


def test_an_application_read_whole_and_its_watches_are_held_to_their_references():
    read = f"{report.GET_APPLICATION_WHOLE} from memory ≥ 0.8× GET configuration from memory req/s"
    fan_out = (
        "application watches: all 10,000 answered after one PUT of one of its configurations "
        "in ≤ 1.5× the time of the FastAPI floor answering as many bytes"
    )
    clean = "application watches: all held, no errors, none stale; database reads per wake ≤ 1"
    memory = "application watches: memory per held request ≤ 1.1× a configuration watch's"
    assert {verdicts(all_good())[title] for title in (read, fan_out, clean, memory)} == {"PASS"}
    slow = all_good(application_watch=[held(14, 700, db_reads=2)] * 3)
    slow.wrk[report.GET_APPLICATION_WHOLE] = rounds(1500, 1500, 1500)  # 0.75×
    assert [verdicts(slow)[title] for title in (read, fan_out, clean, memory)] == ["FAIL"] * 4
    only = all_good(skipped={"watch": "not run (--only applications)"})
    only.watch = []
    assert verdicts(only)[memory] == "SKIP" and verdicts(only)[fan_out] == "PASS"
    row = next(
        line for line in report.table(all_good()).splitlines() if "on an application" in line
    )
    assert "memory 1.25×, time 1.30× floor" in row and "DB reads per wake 1" in row

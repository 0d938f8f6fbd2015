from bench import report
from bench.wrk import Result


def result(rate: float, p99: float = 10.0, failures: int = 0) -> Result:
    return Result(rate, p50_ms=5.0, p99_ms=p99, non_2xx_3xx=failures, socket_errors=0)


def results(**overrides) -> dict[str, Result]:
    values = {
        report.BASELINE: result(1000, p99=20),
        report.GET_CONFIGURATION: result(1100, p99=15),
        report.GET_APPLICATION: result(950),
        report.LIST_APPLICATIONS: result(400),
        report.CONDITIONAL_GET: result(1600),
        report.POST_CONFIGURATION: result(600),
        report.PUT_CONFIGURATION: result(600),
        report.TWO_WORKERS: result(1700),
        report.TWO_WORKERS_PLAIN: result(600, failures=3),
    }
    return values | overrides


def test_all_targets_met():
    outcomes = report.targets(results(), report.Memory(50_000, 52_000))
    assert all(met for _, met, _ in outcomes), outcomes
    assert len(outcomes) == 9


def test_each_missed_target_is_reported():
    outcomes = dict(
        (name, met)
        for name, met, _ in report.targets(
            results(
                **{
                    report.CONDITIONAL_GET: result(1400),
                    report.POST_CONFIGURATION: result(600, failures=1),
                }
            ),
            report.Memory(50_000, 60_000),
        )
    )
    assert not outcomes["conditional GET (304) ≥ 1.5× baseline"]
    assert not outcomes["no non-2xx/3xx and no socket errors"]
    assert not outcomes["resident memory at end within 10% of after warm-up"]
    assert outcomes["GET configuration ≥ 1.0× baseline req/s"]


def test_table_shows_ratios_to_the_baseline():
    table = report.table(results())
    get_configuration = next(line for line in table.splitlines() if "| GET configuration " in line)
    assert get_configuration.rstrip(" |").endswith("1.10×")
    assert table.splitlines()[0].startswith("| scenario")
    assert "PASS  x: 1.0×" in report.verdict_lines([("x", True, "1.0×")])

import functools
import uuid

import httpx
import pytest

from bench import report, run, wrk
from bench.report import Measurements
from conftest import make_settings
from test import postgres

RESULT = wrk.Result(1000.0, p50_ms=5.0, p99_ms=9.0, non_2xx_3xx=0, socket_errors=0)


def test_each_measurement_warms_up_then_keeps_its_result(tmp_path, monkeypatch, capsys):
    runs = []
    monkeypatch.setattr(
        run.wrk,
        "run",
        lambda url, script, seconds=5: runs.append((url, script.read_text(), seconds)) or RESULT,
    )
    scripts = iter(["first", "second", "third", "fourth"])
    bench = run.Bench(tmp_path, Measurements())

    bench.measure("GET x", "http://s", lambda: next(scripts))
    bench.measure("GET x", "http://s", lambda: next(scripts))

    assert runs == [
        ("http://s", "first", wrk.WARM_UP_SECONDS),
        ("http://s", "second", wrk.MEASURE_SECONDS),
        ("http://s", "third", wrk.WARM_UP_SECONDS),
        ("http://s", "fourth", wrk.MEASURE_SECONDS),
    ]
    assert bench.measured.wrk == {"GET x": [RESULT, RESULT]}
    assert "GET x [2]: 1000 req/s" in capsys.readouterr().out


def test_arguments():
    arguments = run.parse_arguments(["--only", "read, watch", "--repetitions", "5"])
    assert (arguments.phases, arguments.repetitions) == (["read", "watch"], 5)
    assert run.parse_arguments([]).phases == list(run.PHASES)
    with pytest.raises(SystemExit):
        run.parse_arguments(["--only", "reed"])


def load_a_little(url: str, script, seconds: float = 5) -> wrk.Result:
    """Stands in for wrk (its report is read in wrk_test), so that `make test` needs no wrk:
    a few real GETs, so the service serves something while the bench measures it."""
    for _ in range(20):
        httpx.get(f"{url}/health/live", timeout=10).raise_for_status()
    return RESULT


def test_a_small_churn_run_from_start_to_report(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run.wrk, "run", load_a_little)
    monkeypatch.setattr(run, "seed", functools.partial(run.seed, applications=2, configurations=2))
    name = f"config_service_bench_test_{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(run, "bench_database", functools.partial(run.bench_database, name=name))
    monkeypatch.setattr(run, "get_settings", lambda: make_settings(postgres.ADMIN_DSN))
    monkeypatch.setattr(run, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(run, "CHURN_CONFIGURATIONS", 300)
    monkeypatch.setattr(run, "CHURN_SECONDS", 1)

    assert run.main(["--only", "churn"]) == 0

    out = capsys.readouterr().out
    assert "| GET random configuration of 300, READ_CACHE_BYTES=16 MiB |" in out
    assert "PASS   RSS growth under churn ≤ READ_CACHE_BYTES + 24 MiB" in out
    assert "SKIP   GET configuration ≥ 1.8× baseline req/s: not run (--only churn)" in out
    assert not postgres.database_exists(name)
    logs = {path.name for path in tmp_path.iterdir()}
    assert {"service.log", "baseline.log", "service-churn.log"} <= logs


def test_the_database_is_dropped_when_a_phase_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "seed", functools.partial(run.seed, applications=2, configurations=2))
    name = f"config_service_bench_test_{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(run, "bench_database", functools.partial(run.bench_database, name=name))
    monkeypatch.setattr(run, "get_settings", lambda: make_settings(postgres.ADMIN_DSN))
    monkeypatch.setattr(run, "RESULTS_DIR", tmp_path)

    def broken(*arguments):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "churn_phase", broken)
    assert run.main(["--only", "churn"]) == 130
    assert not postgres.database_exists(name)
    report.table(Measurements())  # nothing measured is still a table

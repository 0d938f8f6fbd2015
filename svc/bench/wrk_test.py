from pathlib import Path

import pytest

from bench import wrk

REPORT = """Running 10s test @ http://127.0.0.1:8765
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    29.41ms    9.66ms 120.03ms   83.62%
    Req/Sec     1.10k   241.76     2.04k    77.50%
  Latency Distribution
     50%   28.74ms
     75%   33.10ms
     90%   40.12ms
     99%    1.20s 
  10903 requests in 10.00s, 14.36MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:   1090.26
Transfer/sec:      1.44MB
"""


def test_parse_reads_rate_percentiles_and_failures():
    result = wrk.parse(REPORT)
    assert result == wrk.Result(
        requests_per_second=1090.26, p50_ms=28.74, p99_ms=1200.0, non_2xx_3xx=7, socket_errors=5
    )


def test_a_clean_report_has_no_failures():
    clean = REPORT.replace("  Socket errors: connect 0, read 2, write 0, timeout 3\n", "")
    clean = clean.replace("  Non-2xx or 3xx responses: 7\n", "").replace("1.20s", "850us")
    result = wrk.parse(clean)
    assert (result.non_2xx_3xx, result.socket_errors, result.p99_ms) == (0, 0, 0.85)


def test_a_report_without_percentiles_is_refused_with_the_text():
    with pytest.raises(ValueError, match="Requests/sec"):
        wrk.parse(REPORT.replace("     99%    1.20s \n", ""))


def test_run_uses_the_same_settings_for_every_scenario(monkeypatch):
    seen = {}

    def fake_run(command, **options):
        seen["command"] = command
        return type("Completed", (), {"stdout": REPORT})()

    monkeypatch.setattr(wrk.subprocess, "run", fake_run)
    assert wrk.run("http://h", Path("s.lua"), 3).requests_per_second == 1090.26
    assert seen["command"][:5] == ["wrk", "-t1", "-c32", "-d3s", "--latency"]


@pytest.mark.parametrize(("text", "ms"), [("850us", 0.85), ("2.5ms", 2.5), ("1.5s", 1500.0)])
def test_latency_units(text, ms):
    assert wrk._milliseconds(text) == pytest.approx(ms)

"""The client bench runs end to end on a small tree and reports both targets."""

from bench import client


def test_the_client_bench_reports_both_targets(capsys):
    assert client.main(["--changes", "3", "--applications", "2", "--configurations", "2"]) == 0
    follow, apply = capsys.readouterr().out.splitlines()
    assert follow.startswith("follow: 3 PUTs seen in p50 ") and "1.00 GETs per change" in follow
    assert "2 applications x 2 configurations (4)" in apply
    assert "(target < 30 s, 6 writes)" in apply and "0 writes (target 0)" in apply

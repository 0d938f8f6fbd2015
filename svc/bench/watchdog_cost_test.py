from bench import watchdog_cost
from conftest import make_settings


def test_the_watchdog_is_measured_against_the_same_calls_without_it(database_url, monkeypatch):
    monkeypatch.setattr(watchdog_cost, "CALLS", 16)
    ratios = watchdog_cost.watchdog_ratios(make_settings(database_url, db_pool_size=2), rounds=2)
    assert set(ratios) == {"read", "write"}
    assert all(len(values) == 2 and all(v > 0 for v in values) for values in ratios.values())
    assert watchdog_cost.describe({"read": [1.0, 0.98, 1.02]}) == "read 1.000× (0.980–1.020)"

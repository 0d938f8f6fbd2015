"""bench.fleet on small numbers: each measurement runs and reports what it saw."""

import pytest

from bench import fleet


def test_a_notification_step_times_every_change_at_every_listener(database_url):
    step = fleet.notification_step(database_url, rate=40, seconds=0.5, writers=2)
    assert step.complete
    assert 10 <= step.committed <= 60  # about the rate asked
    assert 0 < step.p50 <= step.p99 < 5


def test_throughput_stops_at_the_first_step_that_misses_the_target(database_url, monkeypatch):
    monkeypatch.setattr(fleet, "NOTIFICATION_TARGET", 0.0)  # every step misses it
    steps = fleet.notification_throughput(database_url, [20, 40], seconds=0.3)
    assert [step.asked for step in steps] == [20]


@pytest.mark.parametrize("load", ["put", "miss"])
def test_pool_occupancy_samples_the_pools_in_use(database_url, load):
    occupancy = fleet.pool_occupancy(database_url, load, clients=2, seconds=0.5, pool=2)
    assert occupancy.load == load and occupancy.requests_per_second > 0
    assert 0 <= occupancy.mean_in_use <= occupancy.most_in_use <= 2

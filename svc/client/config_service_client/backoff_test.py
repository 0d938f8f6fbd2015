"""Full-jitter backoff: ceilings double up to the cap, draws fall below them, Retry-After wins."""

import random

from config_service_client.backoff import Backoff, retry_after_seconds


def test_ceilings_double_up_to_the_cap_and_each_delay_is_below_its_ceiling():
    backoff = Backoff(base=1, cap=8, rng=random.Random(1))
    ceilings, delays = [], []
    for _ in range(6):
        ceilings.append(backoff.ceiling())
        delays.append(backoff.next_delay())
    assert ceilings == [1, 2, 4, 8, 8, 8]
    assert all(0 <= delay <= ceiling for delay, ceiling in zip(delays, ceilings))
    backoff.reset()
    assert backoff.ceiling() == 1


def test_retry_after_is_never_undercut():
    backoff = Backoff(base=1, cap=60, rng=random.Random(2))
    assert all(5 <= backoff.next_delay(retry_after=5) <= 6 for _ in range(20))


def test_retry_after_values():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") is None

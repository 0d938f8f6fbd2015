"""How long to wait before asking again: exponential with full jitter, capped."""

import random


class Backoff:
    """Full jitter (a uniform draw below a ceiling that doubles per failure, up to `cap`), so
    runtimes that lost the service together do not come back together."""

    def __init__(self, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None):
        self.base = base
        self.cap = cap
        self.failures = 0
        self._random = rng or random.Random()

    def ceiling(self) -> float:
        """The longest the next delay may be."""
        return min(self.cap, self.base * 2 ** min(self.failures, 64))

    def next_delay(self, retry_after: float | None = None) -> float:
        """The delay after one more failure; never shorter than a `Retry-After` the service sent."""
        delay = self._random.uniform(0, self.ceiling())
        self.failures += 1
        if retry_after is not None:
            return retry_after + min(delay, self.base)  # as asked, spread a little
        return delay

    def reset(self) -> None:
        """A success: the next failure starts from `base` again."""
        self.failures = 0


def retry_after_seconds(value: str | None) -> float | None:
    """A `Retry-After` in seconds (the service sends delta-seconds; dates are not used)."""
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())

"""When the supervisor restarts a worker that died, and when it says so.

A worker that keeps dying at start (a setting only it trips, a full disk) would otherwise be
restarted every 0.2 s, flooding the log. The wait doubles from FIRST_DELAY up to MAX_DELAY with
each death in a row, and starts again from FIRST_DELAY once a worker has lived HEALTHY_AFTER
seconds. Each step is logged once: at the cap, the restarts that follow are not.
"""

from dataclasses import dataclass

FIRST_DELAY = 0.2
MAX_DELAY = 30.0
HEALTHY_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class Restart:
    """What to do about one death: wait `delay` seconds; `announce` it (a new step) or not."""

    delay: float
    announce: bool
    at_cap: bool


class RestartBackoff:
    """The restart schedule of one worker slot."""

    def __init__(
        self,
        first: float = FIRST_DELAY,
        cap: float = MAX_DELAY,
        healthy_after: float = HEALTHY_AFTER,
    ):
        self._first = first
        self._cap = cap
        self._healthy_after = healthy_after
        self._delay = 0.0  # 0: the last worker in this slot was healthy (or none died yet)

    def died(self, *, lived: float) -> Restart:
        """A worker died after `lived` seconds: how long to wait before starting the next."""
        if lived >= self._healthy_after:
            self._delay = 0.0
        previous = self._delay
        self._delay = self._first if previous == 0 else min(self._cap, previous * 2)
        return Restart(
            self._delay, announce=self._delay != previous, at_cap=self._delay == self._cap
        )

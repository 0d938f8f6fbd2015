"""What a read by id asks and answers: plain values that messages, the bus, the read model
and the routers share (and nothing else, so every one of them may import this)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from config_service.representation import Representation

type Load = Callable[[], Awaitable[Representation]]
# How a held read (a watch) ended; the request log and watch_ended_total name these.
type Outcome = Literal["changed", "timeout", "shed", "lost", "shutdown", "gone"]


@dataclass(frozen=True, slots=True)
class ReadConditions:
    """What a GET asks of its answer (If-None-Match, Cache-Control, Prefer and Accept-Encoding,
    parsed)."""

    if_none_match: str | None = None
    no_cache: bool = False  # read PostgreSQL, not memory
    stale_if_error: int | None = None  # seconds a stale copy may answer while PostgreSQL is down
    wait: int = 0  # seconds to hold the request until the representation changes
    accepts_gzip: bool = False  # Accept-Encoding allows gzip: how the answer is sent, not read
    # Config-Client: who asks, which places it in or out of a rollout's cohort (None: nobody,
    # served the current version).
    client: str | None = None
    # Config-Rejected, as sent: a revision the client could not apply (a report, not a
    # condition of the answer; read in the same pass over the headers).
    rejected: str | None = None


@dataclass(frozen=True, slots=True)
class Held:
    """How a held GET ended, after how long, and the wait it was given (Preference-Applied)."""

    outcome: Outcome
    seconds: float
    waited: int


@dataclass(frozen=True, slots=True)
class Read:
    """A GET's answer: the representation, and what the response must say about it."""

    representation: Representation
    not_modified: bool  # If-None-Match names it: 304
    age: int | None = None  # answered stale (stale-if-error): seconds since last known current
    held: Held | None = None

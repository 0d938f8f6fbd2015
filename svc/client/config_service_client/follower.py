"""Follow one configuration from a background thread, through outages, for as long as it runs.

Each round is one GET with `If-None-Match` (the ETag held) and `Prefer: wait=N`: the service
holds it until the configuration changes (200) or the wait ends (304). Errors and requests the
service would not hold (`Preference-Applied: wait=0`) are retried after a full-jitter backoff,
never sooner than `Retry-After`; answers that asking again cannot change (401, 403, 404) end it.
A 200 carrying the very ETag the request named in If-None-Match means the condition was lost on
the way (a caching proxy in front replaced it): that is backed off too, or the follow would ask
again at once, forever.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import NamedTuple

import httpx

from config_service_client.backoff import Backoff
from config_service_client.cache import CachedVersion, DiskCache
from config_service_client.lookup import find_configuration
from config_service_client.service import (
    FatalError,
    ServiceError,
    connect,
    describe,
    error_for,
    unreachable,
)

log = logging.getLogger("config_service_client")
clock = time.monotonic  # what staleness is measured with (tests move it by hand)

CONDITION_LOST = (
    "the service answered 200 with the ETag this request sent in If-None-Match, so something "
    "in front of it (a caching reverse proxy?) dropped the condition; treating it as unchanged "
    "and backing off, so changes arrive late. Fix: pass If-None-Match through to the service "
    "(nginx: proxy_set_header If-None-Match $http_if_none_match; see docs/operations.md)"
)


class Target(NamedTuple):
    """What is followed: a configuration id, or an application's and a configuration's names."""

    key: str
    id: str | None
    application: str | None = None
    configuration: str | None = None


class Follower:
    """The current version of one configuration: `config`, `etag`, `revision`, `staleness`."""

    def __init__(
        self,
        base_url: str,
        target: Target,
        *,
        token: str | None,
        cache: DiskCache | None,
        wait: int,
        stale_if_error: int,
        backoff: Backoff,
        client_id: str | None = None,
    ):
        self.base_url = base_url
        self.client_id = client_id  # sent as Config-Client (identity.py)
        self.target = target
        self.id = target.id
        self.config: dict | None = None
        self.etag: str | None = None
        self.revision: int | None = None  # once the service sends `Revision`
        self.cache_age: float | None = None  # seconds, when it started from the disk cache
        self.error: FatalError | None = None  # why it stopped, when it stopped by itself
        self.problem: str | None = None  # the last transient failure, None once past it
        self._token = token
        self._cache = cache
        self._wait = wait
        self._stale_if_error = stale_if_error
        self._backoff = backoff
        self._confirmed_at: float | None = None
        self._held_since: float | None = None  # when the service took the request now held
        self._trouble_since: float | None = None  # when the current run of failures began
        self._failures = 0
        self._said_condition_lost = False
        # A version the application's callbacks refused: its ETag (the follow waits on it, as
        # the service serves it to this client) and its revision, reported once.
        self._refused_etag: str | None = None
        self._report: int | None = None
        self._on_change: list[Callable[[dict], object]] = []
        self._on_error: list[Callable[[FatalError], object]] = []
        self._state = threading.Condition()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="config-follower", daemon=True)

    @property
    def staleness(self) -> float | None:
        """Seconds since the service last confirmed the version held; None before any.

        A request the service holds confirms it for as long as it is held (the service would
        answer at once if it changed), up to the wait asked for: near 0 while all is well,
        rising once the service cannot be reached or cannot reach PostgreSQL."""
        with self._state:
            now = clock()
            confirmed = self._confirmed_until(now)
            if confirmed is None:
                return None
            return max(0.0, now - confirmed)

    def _confirmed_until(self, now: float) -> float | None:
        """Up to when the version held is known current (the lock is held)."""
        if self._held_since is None or self._confirmed_at is None:
            return self._confirmed_at
        return max(self._confirmed_at, min(now, self._held_since + self._wait))

    def on_change(self, callback: Callable[[dict], object]) -> Callable[[dict], object]:
        """Call `callback(config)` with the version now and after every change (its thread)."""
        self._on_change.append(callback)
        return callback

    def on_error(self, callback: Callable[[FatalError], object]) -> Callable:
        """Call `callback(error)` when following ends for good (401, 403, 404)."""
        self._on_error.append(callback)
        return callback

    def start(self) -> "Follower":
        """Start from the disk cache if there is one, then follow in a background thread."""
        cached = self._cache.read() if self._cache is not None else None
        if cached is not None and (self.id is None or cached.id == self.id):
            self.cache_age = cached.age()
            log.info(
                "starting from the cache file %s, %.0f s old", self._cache.path, self.cache_age
            )
            with self._state:
                self._take(cached.id, cached.etag, cached.revision, cached.config, self.cache_age)
        self._thread.start()
        return self

    def __enter__(self) -> "Follower":
        """`with client.follow(...) as follower:` starts it, and stops it at the end."""
        return self.start() if not self._thread.is_alive() else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self, timeout: float | None = 0) -> None:
        """Stop following; a request still held is abandoned (its answer is ignored)."""
        self._stopping.set()
        if timeout != 0 and self._thread.is_alive():
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> dict:
        """The config once there is one (from the service or the cache); raises the error that
        ended the follow, or TimeoutError after `timeout` seconds."""
        with self._state:
            self._state.wait_for(lambda: self.config is not None or self.error, timeout)
            if self.config is not None:
                return self.config
            if self.error is not None:
                raise self.error
            raise TimeoutError(f"no configuration within {timeout} s: {self.problem}")

    def join(self, timeout: float | None = None) -> None:
        """Wait for the background thread to end (after stop() or a fatal error)."""
        self._thread.join(timeout)

    def _run(self) -> None:
        if self.config is not None:
            self._notify(
                self.config
            )  # the cached version, until the service confirms or replaces it
        timeout = httpx.Timeout(10, read=self._wait + 15)  # a held request takes `wait` seconds
        with connect(self.base_url, self._token, timeout) as http:
            while not self._stopping.is_set():
                delay = self._round(http)
                if delay:
                    self._stopping.wait(delay)

    def _round(self, http: httpx.Client) -> float:
        """One request and what follows from its answer: seconds to wait before the next."""
        sent, cut = self._refused_etag or self.etag, False
        try:
            response = self._get(
                http,
                headers=self._headers(sent),
                extensions={"trace": self._traced} if sent else {},
            )
        except httpx.TransportError as error:
            cut = True
            return self._retry(unreachable(self.base_url, error))
        except FatalError as error:
            return self._end(error)
        except ServiceError as error:
            return self._retry(error)
        except Exception as error:  # noqa: BLE001 - nothing may end the follow but a fatal answer
            return self._retry(ServiceError(f"unexpected: {describe(error)}"))
        finally:
            self._hold_ended(cut)
        if self._stopping.is_set():
            return 0
        if response.status_code == 200 and sent and response.headers.get("ETag") == sent:
            return self._condition_lost(response)
        if response.status_code == 200:
            return self._received(response)
        if response.status_code == 304:
            self._confirm(response)
            if response.headers.get("Preference-Applied", "wait=0") == "wait=0":
                return self._retry(ServiceError("the service did not hold the request"))
            self._recovered()
            self._said_condition_lost = False  # held as it should be: the path is fixed
            return 0
        error = error_for(response)
        return self._end(error) if isinstance(error, FatalError) else self._retry(error)

    def _get(self, http: httpx.Client, **options) -> httpx.Response:
        """The round's request: the configuration's GET (found by its names the first time).
        (An application's follower asks for the application read whole instead.)"""
        if self.id is None:
            found = find_configuration(http, self.target.application, self.target.configuration)
            self.id = found.json()["id"]
        return http.get(f"/configurations/{self.id}", **options)

    def _followed(self, response: httpx.Response) -> dict:
        """The answer's `id` and `config`, what the follow holds: a configuration's body."""
        return response.json()

    def _headers(self, etag: str | None) -> dict[str, str]:
        headers = {"Cache-Control": f"stale-if-error={self._stale_if_error}"}
        if etag:
            headers |= {"If-None-Match": etag, "Prefer": f"wait={self._wait}"}
        if self.client_id is not None:
            headers["Config-Client"] = self.client_id
            if self._report is not None:
                headers["Config-Rejected"] = str(self._report)
                self._report = None  # said once; the service counts a client once anyway
        return headers

    def _traced(self, event: str, info: dict) -> None:
        """httpcore's `trace` extension: once the request is sent and its answer awaited, the
        service holds it (a refused or failed connection never gets this far)."""
        if event.endswith(".receive_response_headers.started"):
            with self._state:
                self._held_since = clock()

    def _hold_ended(self, cut: bool) -> None:
        """A held request cut before its answer confirmed the version until then; one that
        was answered leaves it to the answer (a 503 confirms nothing, a 304 with `Age` only
        as of then)."""
        with self._state:
            if self._held_since is not None and cut:
                self._confirmed_at = self._confirmed_until(clock())
            self._held_since = None

    def _received(self, response: httpx.Response) -> float:
        body = self._followed(response)
        etag = response.headers["ETag"]
        revision = response.headers.get("Revision")
        revision = int(revision) if revision and revision.isdigit() else None
        age = float(response.headers.get("Age", 0) or 0)
        changed = etag != self.etag
        # A new version after the first is offered to the callbacks before it is held.
        offered = changed and self.config is not None
        if offered and not self._accepted(body["config"]):
            return self._refuse(etag, revision)
        self._refused_etag = None
        if changed:  # on disk before anyone is told of it
            self._save(
                CachedVersion(self.target.key, body["id"], etag, revision, body["config"], now())
            )
        with self._state:
            self._take(body["id"], etag, revision, body["config"], age)
        self._recovered()
        if changed and not offered:
            self._notify(self.config)
        return 0

    def _accepted(self, config: dict) -> bool:
        """Tell the callbacks of a new version before holding it: when one raises, the
        runtime's own code refused it, and the follow keeps the version it had."""
        for callback in self._on_change:
            try:
                callback(config)
            except Exception:
                log.exception("a configuration change callback refused the new version")
                return False
        return True

    def _refuse(self, etag: str, revision: int | None) -> float:
        """Keep the previous version; say so to the service on the next request
        (`Config-Rejected`, which may abort a rollout), and wait for a version after it."""
        if etag != self._refused_etag:
            self._report = revision
            log.warning(
                "keeping revision %s: the new version (revision %s) was refused by a callback",
                self.revision,
                revision,
                extra={"refused_revision": revision},
            )
        self._refused_etag = etag
        self._recovered()
        return 0

    def _take(self, id: str, etag: str, revision: int | None, config: dict, age: float) -> None:
        """Hold this version, confirmed current `age` seconds ago (the lock is held)."""
        self.id, self.etag, self.revision, self.config = id, etag, revision, config
        self._confirmed_at = clock() - age
        self._state.notify_all()

    def _confirm(self, response: httpx.Response) -> None:
        """The version held is current (as of `Age` seconds ago, when answered stale)."""
        confirmed = clock() - float(response.headers.get("Age", 0) or 0)
        with self._state:
            self._confirmed_at = max(self._confirmed_at or confirmed, confirmed)

    def _save(self, version: CachedVersion) -> None:
        if self._cache is None:
            return
        try:
            self._cache.write(version)
        except OSError as error:
            log.warning("could not write the cache file %s: %s", self._cache.path, error)

    def _notify(self, config: dict) -> None:
        for callback in self._on_change:
            try:
                callback(config)
            except Exception:
                log.exception("a configuration change callback failed")

    def _retry(self, error: ServiceError) -> float:
        if self._stopping.is_set():
            return 0  # stopped while the request was out: its failure is nobody's concern
        delay = self._backoff.next_delay(error.retry_after)
        self.problem = str(error)
        self._failures += 1
        if self._trouble_since is None:
            self._trouble_since = clock()
        held = "the last version" if self.config is not None else "no configuration yet"
        log.warning(
            "%s; keeping %s, retrying in %.2f s", error, held, delay, extra={"retry_in": delay}
        )
        return delay

    def _condition_lost(self, response: httpx.Response) -> float:
        """A 200 of the version held: nothing changed, but asking again at once would storm.
        Backed off like an error; said once, until a held 304 shows the path was fixed."""
        self._confirm(response)
        delay = self._backoff.next_delay()
        self.problem = CONDITION_LOST
        if not self._said_condition_lost:
            self._said_condition_lost = True
            log.warning("%s; next in %.2f s", CONDITION_LOST, delay, extra={"retry_in": delay})
        return delay

    def _recovered(self) -> None:
        """An answer that is what it should be: after failures, say once that it is over."""
        if self._trouble_since is not None:
            log.info(
                "following again after %.0f s and %d failed requests (the last: %s)",
                clock() - self._trouble_since,
                self._failures,
                self.problem,
                extra={"recovered_after": clock() - self._trouble_since},
            )
        self._trouble_since, self._failures, self.problem = None, 0, None
        self._backoff.reset()

    def _end(self, error: FatalError) -> float:
        log.error("stopped following the configuration: %s", error)
        with self._state:
            self.error = error
            self._state.notify_all()
        self._stopping.set()
        for callback in self._on_error:
            try:
                callback(error)
            except Exception:
                log.exception("a follow error callback failed")
        return 0


def now() -> str:
    return datetime.now(timezone.utc).isoformat()

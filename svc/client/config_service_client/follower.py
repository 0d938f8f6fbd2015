"""Follow one configuration from a background thread, through outages, for as long as it runs.

Each round is one GET with `If-None-Match` (the ETag held) and `Prefer: wait=N`: the service
holds it until the configuration changes (200) or the wait ends (304). Errors and requests the
service would not hold (`Preference-Applied: wait=0`) are retried after a full-jitter backoff,
never sooner than `Retry-After`; answers that asking again cannot change (401, 403, 404) end it.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
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
    ):
        self.base_url = base_url
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
        self._on_change: list[Callable[[dict], object]] = []
        self._on_error: list[Callable[[FatalError], object]] = []
        self._state = threading.Condition()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="config-follower", daemon=True)

    @property
    def staleness(self) -> float | None:
        """Seconds since the service last confirmed the version held; None before any."""
        with self._state:
            if self._confirmed_at is None:
                return None
            return max(0.0, time.monotonic() - self._confirmed_at)

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
        try:
            response = self._get(http, headers=self._headers())
        except httpx.TransportError as error:
            return self._retry(unreachable(self.base_url, error))
        except FatalError as error:
            return self._end(error)
        except ServiceError as error:
            return self._retry(error)
        except Exception as error:  # noqa: BLE001 - nothing may end the follow but a fatal answer
            return self._retry(ServiceError(f"unexpected: {describe(error)}"))
        if self._stopping.is_set():
            return 0
        if response.status_code == 200:
            return self._received(response)
        if response.status_code == 304:
            self._confirm(response)
            if response.headers.get("Preference-Applied", "wait=0") == "wait=0":
                return self._retry(ServiceError("the service did not hold the request"))
            self._backoff.reset()
            self.problem = None
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

    def _headers(self) -> dict[str, str]:
        headers = {"Cache-Control": f"stale-if-error={self._stale_if_error}"}
        if self.etag:
            headers |= {"If-None-Match": self.etag, "Prefer": f"wait={self._wait}"}
        return headers

    def _received(self, response: httpx.Response) -> float:
        body = self._followed(response)
        etag = response.headers["ETag"]
        revision = response.headers.get("Revision")
        revision = int(revision) if revision and revision.isdigit() else None
        age = float(response.headers.get("Age", 0) or 0)
        changed = etag != self.etag
        if changed:  # on disk before anyone is told of it
            self._save(
                CachedVersion(self.target.key, body["id"], etag, revision, body["config"], now())
            )
        with self._state:
            self._take(body["id"], etag, revision, body["config"], age)
        self._backoff.reset()
        self.problem = None
        if changed:
            self._notify(self.config)
        return 0

    def _take(self, id: str, etag: str, revision: int | None, config: dict, age: float) -> None:
        """Hold this version, confirmed current `age` seconds ago (the lock is held)."""
        self.id, self.etag, self.revision, self.config = id, etag, revision, config
        self._confirmed_at = time.monotonic() - age
        self._state.notify_all()

    def _confirm(self, response: httpx.Response) -> None:
        """A 304: the version held is current (as of `Age` seconds ago, when answered stale)."""
        confirmed = time.monotonic() - float(response.headers.get("Age", 0) or 0)
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
        delay = self._backoff.next_delay(error.retry_after)
        self.problem = str(error)
        held = "the last version" if self.config is not None else "no configuration yet"
        log.warning(
            "%s; keeping %s, retrying in %.2f s", error, held, delay, extra={"retry_in": delay}
        )
        return delay

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
    return datetime.now(UTC).isoformat()

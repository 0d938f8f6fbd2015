"""The runtime's entry point: where the service is, and what to follow."""

import json
import os

from config_service_client.application import ApplicationFollower
from config_service_client.backoff import Backoff
from config_service_client.cache import DiskCache
from config_service_client.follower import Follower, Target
from config_service_client.identity import stable_client_id


class ConfigClient:
    """The service at `base_url` (its root, e.g. http://127.0.0.1:8000, without /api/v1).

    With `cache_dir`, every version followed is kept on disk there, and a follower started
    while the service is unreachable starts from it. `client_id` names this runtime to the
    service (`Config-Client`, which places it in or out of a rollout's cohort); by default an
    id kept in `cache_dir`, so stable across restarts (without one, new per process).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        *,
        wait: int = 55,
        stale_if_error: int = 300,
        client_id: str | None = None,
    ):
        self.base_url = base_url
        self.token = token
        self.cache_dir = cache_dir
        self.wait = wait
        self.stale_if_error = stale_if_error
        self.client_id = client_id or stable_client_id(cache_dir)

    def follow(
        self,
        configuration_id: str | None = None,
        *,
        application: str | None = None,
        configuration: str | None = None,
        backoff: Backoff | None = None,
    ) -> Follower:
        """A Follower of one configuration, by id or by its application's and its own name; or,
        with `application` alone, of the whole application (an ApplicationFollower: its
        `config` maps each configuration's name to its config)."""
        if configuration_id is None and application is not None and configuration is None:
            target = Target(f"application:{json.dumps(application)}", None, application)
            return self._follower(ApplicationFollower, target, backoff)
        if (configuration_id is None) == (application is None or configuration is None):
            raise ValueError(
                "give configuration_id, both application and configuration, or application alone"
            )
        if configuration_id is not None:
            target = Target(f"id:{configuration_id}", configuration_id)
        else:
            key = f"name:{json.dumps([application, configuration])}"
            target = Target(key, None, application, configuration)
        return self._follower(Follower, target, backoff)

    def _follower(self, kind: type[Follower], target: Target, backoff: Backoff | None) -> Follower:
        cache = DiskCache(self.cache_dir, target.key) if self.cache_dir is not None else None
        return kind(
            self.base_url,
            target,
            token=self.token,
            cache=cache,
            wait=self.wait,
            stale_if_error=self.stale_if_error,
            backoff=backoff or Backoff(),
            client_id=self.client_id,
        )

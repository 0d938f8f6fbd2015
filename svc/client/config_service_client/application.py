"""Follow a whole application: all its configurations, by name, with one held request.

Each round is one GET of `/applications/{id}?include=configurations` (the id found by the
application's name the first time) with `If-None-Match` and `Prefer: wait=N`: the service
holds it until anything in it changes (a configuration's config, a configuration added or
renamed, the application renamed) and answers the whole application, one snapshot. The rest
is the configuration Follower's: retries, backoff, `Retry-After`, the disk cache (written
whole, atomically: one file for the application), fatal answers.
"""

import httpx

from config_service_client.follower import Follower
from config_service_client.lookup import configs_by_name, find_application_id


class ApplicationFollower(Follower):
    """The current configurations of one application: `config` maps each configuration's name
    to its config, and `on_change` callbacks get that mapping. `etag` is the application's
    (read whole); `revision` stays None (each configuration has its own: a HEAD of its URL)."""

    def _get(self, http: httpx.Client, **options) -> httpx.Response:
        if self.id is None:
            self.id = find_application_id(http, self.target.application)
        params = {"include": "configurations"}
        return http.get(f"/applications/{self.id}", params=params, **options)

    def _followed(self, response: httpx.Response) -> dict:
        application = response.json()
        return {"id": application["id"], "config": configs_by_name(application)}

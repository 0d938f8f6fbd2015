"""A configuration's revisions (`?history`, `?revision=N`) and rollback as a GET then a PUT."""

from collections.abc import Iterator

import httpx

from config_service_client.lookup import get
from config_service_client.service import ServiceError, put_if_match

HISTORY_FIELDS = ("revision", "changed_at", "changed_by", "request_id", "etag")


def history(http: httpx.Client, configuration_id: str, limit: int) -> Iterator[dict]:
    """Up to `limit` revisions, newest first, following the `next` links page by page."""
    page_size = min(limit, 1000)
    url = f"/configurations/{configuration_id}?history&limit={page_size}"
    remaining = limit
    while url and remaining > 0:
        response = get(http, url)
        for entry in response.json()[:remaining]:
            remaining -= 1
            yield entry
        following = response.links.get("next")
        url = str(response.url.join(following["url"])) if following else None


def rollback(http: httpx.Client, current: httpx.Response, revision: int) -> httpx.Response:
    """PUT revision `revision`'s name, comments and config back, if `current` is still current."""
    configuration_id = current.json()["id"]
    old = get(http, f"/configurations/{configuration_id}", params={"revision": revision}).json()
    stale = ServiceError(
        "the configuration changed while rolling back; nothing was overwritten: "
        "look at its history and try again",
        412,
    )
    body = {key: old[key] for key in ("name", "comments", "config")}
    return put_if_match(http, current, body, stale)

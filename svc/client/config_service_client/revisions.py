"""A configuration's revisions (`?history`, `?revision=N`) and rollback as a GET then a PUT."""

from collections.abc import Iterator

import httpx

from config_service_client.lookup import get
from config_service_client.service import ServiceError, error_for

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
    body = current.json()
    old = get(http, f"/configurations/{body['id']}", params={"revision": revision}).json()
    response = http.put(
        f"/configurations/{body['id']}",
        json={key: old[key] for key in ("name", "comments", "config")},
        headers={"If-Match": current.headers["ETag"]},
    )
    if response.status_code == 412:
        raise ServiceError(
            "the configuration changed while rolling back; nothing was overwritten: "
            "look at its history and try again",
            412,
        )
    if response.status_code != 200:
        raise error_for(response)
    return response

"""Trying a plan before writing it: each change sent with `?dry_run`, which the service runs
whole (body checks, uniqueness, the schema's validation, a schema's check of its followers)
and rolls back. What it would refuse is named by file, with where each error is.

Two changes cannot be tried as they will be written: a configuration of an application that
apply creates is not tried (its application does not exist yet; its real write is still
validated, and a refusal stops the run there), and a configuration whose schema apply creates
is tried without its link.
"""

from typing import NamedTuple

import httpx

from config_service_client.apply import FRESH, Change, Plan, link_header, rolled_out
from config_service_client.service import error_for

DRY_RUN = {"dry_run": ""}
NOT_ALLOWED = frozenset({401, 403})  # a read-only token: compared, but not tried
REFUSED = frozenset({409, 412, 422})  # what a real write would be refused with, for good


class NotTried(Exception):
    """The token may not write, so the service cannot try the changes (a read-only gate)."""

    def __init__(self, response: httpx.Response):
        super().__init__(f"{response.status_code} {response.reason_phrase}")
        self.response = response


class Refusal(NamedTuple):
    change: Change
    response: httpx.Response

    def __str__(self) -> str:
        desired = self.change.desired
        problem = _problem(self.response)
        lines = [
            f"{desired.application}/{desired.name}.json would be refused "
            f"({self.response.status_code}): {problem.get('detail', '')}"
        ]
        for error in problem.get("errors") or []:
            where = "/".join(str(part) for part in error.get("loc", []))
            keyword = f" [{error['keyword']}]" if error.get("keyword") else ""
            lines.append(f"    {where}: {error.get('msg', '')}{keyword}")
        return "\n".join(lines)


def _problem(response: httpx.Response) -> dict:
    try:
        problem = response.json()
    except ValueError:
        return {"detail": response.text[:200]}
    return problem if isinstance(problem, dict) else {}


def refusals(http: httpx.Client, planned: Plan, rollout: str | None = None) -> list[Refusal]:
    """The changes the service would refuse, each tried with ?dry_run (nothing is written)."""
    found = []
    for change in planned.changes:
        application_id = planned.application_ids[change.desired.application]
        if application_id is None:
            continue  # its application is new: tried after it is created
        response = _try(http, planned, change, application_id, rollout)
        if response.status_code in NOT_ALLOWED:
            raise NotTried(response)
        if response.status_code in REFUSED:
            found.append(Refusal(change, response))
        elif response.status_code >= 400:
            raise error_for(response)
    return found


def _try(
    http: httpx.Client, planned: Plan, change: Change, application_id: str, rollout: str | None
) -> httpx.Response:
    desired, link = change.desired, link_header(planned, change.desired)
    if change.current is None:
        body = {
            "application_id": application_id,
            "name": desired.name,
            "comments": desired.comments or "",
            "config": desired.config,
        }
        return http.post("/configurations", json=body, headers=link, params=DRY_RUN)
    current = http.get(f"/configurations/{change.current['id']}", headers=FRESH)
    comments = change.current["comments"] if desired.comments is None else desired.comments
    body = {"name": desired.name, "comments": comments, "config": desired.config}
    if rollout is not None and current.status_code == 200:
        current, link = rolled_out(http, current, rollout)
    headers = {"If-Match": current.headers.get("ETag", "*"), **link}
    return http.put(
        f"/configurations/{change.current['id']}", json=body, headers=headers, params=DRY_RUN
    )

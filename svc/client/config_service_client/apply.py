"""Make the service match a directory: create what is missing, PUT what differs, nothing else.

Every PUT carries `If-Match` with the ETag of the read it was compared against, so a change
made by someone else in between is a 412 that stops the run, never an overwrite. A create
that loses a race (409) reads what won and compares again.
"""

from collections.abc import Callable
from typing import NamedTuple

import httpx

from config_service_client.diff import Difference, differences
from config_service_client.directory import Desired
from config_service_client.lookup import configurations_of, find_application
from config_service_client.service import ServiceError, error_for


class Change(NamedTuple):
    """One configuration that differs: `current` is the GET compared against (None: create)."""

    desired: Desired
    current: httpx.Response | None
    differences: list[Difference]

    def __str__(self) -> str:
        verb = "create" if self.current is None else "update"
        lines = [f"{verb} {self.desired.application}/{self.desired.name}"]
        return "\n".join(lines + [f"    {difference}" for difference in self.differences])


class Plan(NamedTuple):
    changes: list[Change]
    unchanged: int
    drift: list[str]  # application/configuration on the service, not in the directory
    application_ids: dict[str, str | None]  # None: the application is to be created


class Stopped(ServiceError):
    """Apply stopped before overwriting someone else's change."""


def compare(desired: Desired, current: httpx.Response | None) -> list[Difference]:
    """What writing `desired` would change in `current` (the config, and managed comments)."""
    body = current.json() if current is not None else {"config": {}, "comments": ""}
    found = differences(body["config"], desired.config)
    if desired.comments is not None and desired.comments != body["comments"]:
        found.append(Difference("changed", "comments", body["comments"], desired.comments))
    return found


def plan(http: httpx.Client, applications: dict[str, list[Desired]]) -> Plan:
    """Read the service and compare it with the directory; writes nothing."""
    changes, unchanged, drift, ids = [], 0, [], {}
    for name, wanted in applications.items():
        application = find_application(http, name)
        ids[name] = application["id"] if application else None
        current = configurations_of(http, application) if application else {}
        for desired in wanted:
            found = compare(desired, current.get(desired.name))
            if found or desired.name not in current:
                changes.append(Change(desired, current.get(desired.name), found))
            else:
                unchanged += 1
        drift += [f"{name}/{other}" for other in sorted(current.keys() - {d.name for d in wanted})]
    return Plan(changes, unchanged, drift, ids)


def execute(http: httpx.Client, planned: Plan, report: Callable[[str], object]) -> None:
    """Write the plan's changes; raises Stopped on a 412, ServiceError on any other refusal."""
    ids = dict(planned.application_ids)
    for change in planned.changes:
        application = change.desired.application
        if ids[application] is None:
            ids[application] = create_application(http, application)
        if change.current is None:
            create_configuration(http, ids[application], change.desired)
        else:
            update_configuration(http, change.current, change.desired)
        report(str(change))


def create_application(http: httpx.Client, name: str) -> str:
    response = http.post("/applications", json={"name": name})
    if response.status_code == 409:  # created meanwhile by someone else: use it
        found = find_application(http, name)
        if found is not None:
            return found["id"]
    if response.status_code != 201:
        raise error_for(response)
    return response.json()["id"]


def create_configuration(http: httpx.Client, application_id: str, desired: Desired) -> None:
    body = {
        "application_id": application_id,
        "name": desired.name,
        "comments": desired.comments or "",
        "config": desired.config,
    }
    response = http.post("/configurations", json=body)
    if response.status_code == 409:  # created meanwhile: compare with what won
        current = configurations_of(http, http.get(f"/applications/{application_id}").json())
        if desired.name in current:
            if compare(desired, current[desired.name]):
                update_configuration(http, current[desired.name], desired)
            return
    if response.status_code != 201:
        raise error_for(response)


def update_configuration(http: httpx.Client, current: httpx.Response, desired: Desired) -> None:
    body = current.json()
    comments = body["comments"] if desired.comments is None else desired.comments
    response = http.put(
        f"/configurations/{body['id']}",
        json={"name": desired.name, "comments": comments, "config": desired.config},
        headers={"If-Match": current.headers["ETag"]},
    )
    if response.status_code == 412:
        raise Stopped(
            f"{desired.application}/{desired.name} was changed on the service after apply read "
            "it; nothing was overwritten: run apply again to compare with the new version",
            412,
        )
    if response.status_code != 200:
        raise error_for(response)

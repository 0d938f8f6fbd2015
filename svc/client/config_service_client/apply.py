"""Make the service match a directory: create what is missing, PUT what differs, nothing else.

Each application's current state is one read (the application read whole, with all its
configurations), so an unchanged directory costs two requests per application (its name's
lookup and that read), none per configuration. A configuration that differs is read once more,
by its own GET, for the ETag its PUT sends as `If-Match`; if that read is no longer what was
compared, or someone changes it before the PUT (412), the run stops: never an overwrite. A
create that loses a race (409) reads what won and compares again.

A configuration whose file names a `$schema` (directory.py) is attached to it: a HEAD of each
such configuration reads its current link. Schemas are written before what they describe.
Before anything is written, every change is tried with `?dry_run` (trial.py): a file the
service would refuse stops the run with nothing written.
"""

from collections.abc import Callable
from typing import NamedTuple

import httpx

from config_service_client.diff import Difference, differences
from config_service_client.directory import Desired
from config_service_client.lookup import by_name, find_application, get, read_whole
from config_service_client.service import ServiceError, error_for, put_if_match


class Change(NamedTuple):
    """One configuration that differs: `current` is what it was compared against, as its
    application's read whole holds it (None: create)."""

    desired: Desired
    current: dict | None
    differences: list[Difference]

    def __str__(self) -> str:
        verb = "create" if self.current is None else "update"
        lines = [f"{verb} {self.desired.application}/{self.desired.name}"]
        return "\n".join(lines + [f"    {difference}" for difference in self.differences])


FRESH = {"Cache-Control": "no-cache"}  # compared and written against PostgreSQL, not memory


class Plan(NamedTuple):
    changes: list[Change]
    unchanged: int
    drift: list[str]  # application/configuration on the service, not in the directory
    application_ids: dict[str, str | None]  # None: the application is to be created
    # (application, configuration) -> id, of those the service has (apply adds those it makes)
    configuration_ids: dict[tuple[str, str], str]


class Stopped(ServiceError):
    """Apply stopped before overwriting someone else's change."""


def compare(desired: Desired, current: dict | None) -> list[Difference]:
    """What writing `desired` would change in `current` (the config, and managed comments)."""
    body = current if current is not None else {"config": {}, "comments": ""}
    found = differences(body["config"], desired.config)
    if desired.comments is not None and desired.comments != body["comments"]:
        found.append(Difference("changed", "comments", body["comments"], desired.comments))
    return found


def plan(http: httpx.Client, applications: dict[str, list[Desired]]) -> Plan:
    """Read the service and compare it with the directory; writes nothing."""
    changes, unchanged, drift, ids = [], 0, [], {}
    currents: dict[str, dict[str, dict]] = {}
    for name, wanted in applications.items():
        application = find_application(http, name)
        ids[name] = application["id"] if application else None
        currents[name] = current_configurations(http, application["id"]) if application else {}
        names = {desired.name for desired in wanted}
        drift += [f"{name}/{other}" for other in sorted(currents[name].keys() - names)]
    configuration_ids = {
        (application, name): item["id"]
        for application, current in currents.items()
        for name, item in current.items()
    }
    for name, wanted in applications.items():
        current = currents[name]
        for desired in wanted:
            found = compare(desired, current.get(desired.name))
            if desired.schema is not None and desired.name in current:
                found += relinked(http, current[desired.name], desired, configuration_ids)
            if found or desired.name not in current:
                changes.append(Change(desired, current.get(desired.name), found))
            else:
                unchanged += 1
    return Plan(schemas_first(changes), unchanged, drift, ids, configuration_ids)


def relinked(http: httpx.Client, current: dict, desired: Desired, ids: dict) -> list[Difference]:
    """The attachment's difference, if `current` follows another schema than `desired` names."""
    link = http.head(f"/configurations/{current['id']}", headers=FRESH).headers.get("link", "")
    attached = described_by(link)
    wanted = ids.get(desired.schema)
    if wanted is not None and attached == wanted:
        return []
    return [Difference("changed", "$schema", attached, "/".join(desired.schema))]


def described_by(link: str) -> str | None:
    """The configuration id a Link header's `describedby` target names, or None."""
    for value in link.split(","):
        target, _, parameters = value.strip().partition(">")
        if 'rel="describedby"' in parameters:
            return target.lstrip("<").split("?")[0].rsplit("/", 1)[-1]
    return None


def schemas_first(changes: list[Change]) -> list[Change]:
    """The changes, those a schema of others first: a follower is written against its new
    schema, and a schema's change against its followers' present bodies."""
    schemas = {change.desired.schema for change in changes}
    return sorted(changes, key=lambda c: (c.desired.application, c.desired.name) not in schemas)


def link_header(planned: Plan, desired: Desired) -> dict[str, str]:
    """The Link header attaching `desired` to its schema, once that schema has an id."""
    schema_id = planned.configuration_ids.get(desired.schema) if desired.schema else None
    if schema_id is None:
        return {}
    return {"Link": f'</api/v1/configurations/{schema_id}>; rel="describedby"'}


def execute(
    http: httpx.Client,
    planned: Plan,
    report: Callable[[str], object],
    rollout: str | None = None,
) -> None:
    """Write the plan's changes; raises Stopped on a 412, ServiceError on any other refusal.
    With `rollout` (a Config-Rollout value), each changed configuration becomes a candidate
    (new ones are created as usual: a first version has nothing to roll out from)."""
    ids = planned.application_ids
    for change in planned.changes:
        desired = change.desired
        if ids[desired.application] is None:
            ids[desired.application] = create_application(http, desired.application)
        link = link_header(planned, desired)
        if change.current is None:
            created = create_configuration(http, ids[desired.application], desired, link)
            planned.configuration_ids[(desired.application, desired.name)] = created
        else:
            update_configuration(http, change.current, desired, link, rollout)
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


def create_configuration(
    http: httpx.Client, application_id: str, desired: Desired, link: dict[str, str] | None = None
) -> str:
    """POST `desired` (attached by `link`); the id it has on the service."""
    body = {
        "application_id": application_id,
        "name": desired.name,
        "comments": desired.comments or "",
        "config": desired.config,
    }
    response = http.post("/configurations", json=body, headers=link or {})
    if response.status_code == 409:  # created meanwhile: compare with what won
        current = current_configurations(http, application_id)
        if desired.name in current:
            if compare(desired, current[desired.name]):
                update_configuration(http, current[desired.name], desired, link)
            return current[desired.name]["id"]
    if response.status_code != 201:
        raise error_for(response)
    return response.json()["id"]


def current_configurations(http: httpx.Client, application_id: str) -> dict[str, dict]:
    """The application's configurations by name, in one read from PostgreSQL itself."""
    return by_name(read_whole(http, application_id, headers=FRESH))


def update_configuration(
    http: httpx.Client,
    compared: dict,
    desired: Desired,
    link: dict[str, str] | None = None,
    rollout: str | None = None,
) -> None:
    """PUT `desired` (attached by `link`), if the configuration is still what it was compared
    as (`compared`); with `rollout`, as a candidate (rolled_out)."""
    current = get(http, f"/configurations/{compared['id']}", headers=FRESH)  # for its ETag
    if current.json() != compared:
        raise stopped(desired)
    comments = current.json()["comments"] if desired.comments is None else desired.comments
    body = {"name": desired.name, "comments": comments, "config": desired.config}
    if rollout is not None:
        current, link = rolled_out(http, current, rollout)
    put_if_match(http, current, body, stopped(desired), link)


def rolled_out(
    http: httpx.Client, current: httpx.Response, rollout: str
) -> tuple[httpx.Response, dict[str, str]]:
    """What a PUT as a candidate names: the GET whose ETag If-Match sends (the running
    candidate's, while one runs: the PUT then changes or replaces it) and its headers. A
    candidate keeps the configuration's schema, so no Link is sent."""
    running = current.headers.get("Config-Rollout")
    if running:
        revision = running.partition(";revision=")[2]
        current = get(
            http, f"/configurations/{current.json()['id']}", params={"revision": revision}
        )
    return current, {"Config-Rollout": rollout}


def stopped(desired: Desired) -> Stopped:
    return Stopped(
        f"{desired.application}/{desired.name} was changed on the service after apply read "
        "it; nothing was overwritten: run apply again to compare with the new version",
        412,
    )

"""`config-service rollout APP/CONF`: show, start, change, promote or abort a staged rollout
(the service's docs/rollouts.md). Every change is a PUT with `Config-Rollout` and `If-Match`:
a rollout started, changed or ended meanwhile makes it a 412, and nothing is overwritten."""

import json
from dataclasses import dataclass
from pathlib import Path

import httpx

from config_service_client.lookup import get
from config_service_client.service import ServiceError, put_if_match

FIELDS = ("name", "comments", "config")


@dataclass(frozen=True)
class Running:
    """A running rollout, as the configuration's GET says it: `<percent>;revision=<n>`."""

    percent: int
    revision: int


def running(current: httpx.Response) -> Running | None:
    header = current.headers.get("Config-Rollout")
    if not header:
        return None
    percent, _, revision = header.partition(";revision=")
    return Running(int(percent), int(revision))


def spec(percent: int, step: int | None, every: int | None, max_failures: int | None) -> str:
    """The Config-Rollout header for these options."""
    parts = [str(percent)]
    if step is not None or every is not None:
        parts.append(f"step={step};every={every}")
    if max_failures is not None:
        parts.append(f"max-failures={max_failures}")
    return ";".join(parts)


def describe(http: httpx.Client, current: httpx.Response) -> str:
    """One line: no rollout, or its candidate, percentage and rejections."""
    rollout = running(current)
    if rollout is None:
        return f"no rollout running; revision {current.headers.get('Revision', '?')} is current"
    entry = (
        next((e for e in history_of(http, current) if e["revision"] == rollout.revision), {}).get(
            "rollout"
        )
        or {}
    )
    return (
        f"revision {rollout.revision} served to {rollout.percent}% of clients "
        f"(current: revision {current.headers.get('Revision', '?')}; "
        f"{entry.get('rejections', 0)} rejections)"
    )


def history_of(http: httpx.Client, current: httpx.Response) -> list[dict]:
    return get(http, f"/configurations/{current.json()['id']}", params={"history": ""}).json()


def change(
    http: httpx.Client, current: httpx.Response, header: str, file: Path | None = None
) -> httpx.Response:
    """PUT with `Config-Rollout: header`: the candidate's body while one runs (its ETag in
    If-Match), else the current body with `file`'s config, which starts a candidate."""
    rollout = running(current)
    if rollout is not None and file is None:
        # The candidate's GET: its body is sent back, its ETag is what If-Match names.
        named = get(
            http, f"/configurations/{current.json()['id']}", params={"revision": rollout.revision}
        )
        sent = named.json()
    elif file is not None:
        named, sent = current, {**current.json(), "config": json.loads(file.read_text())}
    else:
        raise ServiceError("no rollout is running: start one with --percent P --file FILE")
    body = {key: sent[key] for key in FIELDS}
    changed = ServiceError(
        "the rollout changed meanwhile; nothing was overwritten: look again", 412
    )
    return put_if_match(http, named, body, changed, headers={"Config-Rollout": header})

"""The HTTP side of rollouts (docs/rollouts.md), for configurations/router.py: a PUT with
`Config-Rollout`, a `Config-Rejected` report riding on a GET or HEAD, and their OpenAPI
parameters."""

from fastapi import Request, Response

from config_service.configurations.models import ConfigurationUpdate
from config_service.configurations.queries import GetConfiguration
from config_service.configurations.rejections import RejectCandidate, counts, parse_rejected
from config_service.configurations.rollouts import RollOutConfiguration, RolloutSpec
from config_service.configurations.versions import (
    count_revisions,
    current_headers,
    resource_path,
)
from config_service.errors import InvalidValue
from config_service.http.dependencies import bus_of, metrics_of
from config_service.http.openapi_parts import header_parameter
from config_service.http.responses import delivery_of, representation_response
from config_service.reads import ReadConditions

ROLLOUT_PARAMETER = header_parameter(
    "Config-Rollout",
    "PUT only: `p` (1-99) makes the body a candidate served to p% of clients, or changes the "
    "running one's share; `100` promotes it, `0` aborts it (both with the candidate's body). "
    "Parameters: `step=S;every=SECONDS`, `max-failures=N`. See docs/rollouts.md.",
)
CLIENT_PARAMETERS = [
    header_parameter(
        "Config-Client",
        "Who asks (1-128 visible ASCII characters): places the client in or out of a running "
        "rollout's cohort, which is served the candidate. Not a credential.",
    ),
    header_parameter(
        "Config-Rejected",
        "A revision this client could not apply (with Config-Client): counted against a "
        "running candidate; max-failures distinct clients abort it.",
    ),
]


def rollout_header(request: Request) -> str | None:
    """Config-Rollout, as one value (several are one list, which no percentage is)."""
    values = request.headers.getlist("config-rollout")
    return ", ".join(values) if values else None


async def roll_out(
    request: Request,
    id: str,
    body: ConfigurationUpdate,
    rollout: RolloutSpec,
    if_match: str | None,
    dry_run: bool,
) -> Response:
    """A PUT with Config-Rollout: start, change, replace, promote or abort a rollout."""
    if request.headers.get("link") is not None:
        raise InvalidValue(
            "Config-Rollout: a candidate keeps the configuration's schema; change the "
            "attachment with a PUT of its own, with no rollout running.",
            loc=("header", "config-rollout"),
        )
    request.state.rollout = rollout.percent  # for the request log
    written = await bus_of(request).dispatch(
        RollOutConfiguration(
            id=id,
            name=body.name,
            comments=body.comments,
            config=body.config,
            rollout=rollout,
            if_match=if_match,
            application_id=body.application_id,
        ),
        delivery_of(request, dry_run=dry_run),
    )
    metrics = metrics_of(request)
    if written.rollout is not None and not dry_run:
        metrics.rollout_changes.inc(written.rollout)
        if written.rollout == "aborted":
            metrics.rollout_aborts.inc("operator")
    configuration = count_revisions(request, metrics, written, dry_run)
    path = resource_path(request, configuration.id)
    return representation_response(configuration, headers=current_headers(configuration, path))


async def report_rejection(request: Request, id: str, conditions: ReadConditions) -> None:
    """Count a `Config-Rejected` report when it names the running candidate and comes from
    its cohort (after a read that checks scope, as the GET does); ignore it otherwise."""
    revision = parse_rejected(conditions.rejected or "", conditions.client)
    bus = bus_of(request)
    current = (await bus.dispatch(GetConfiguration(id), delivery_of(request))).representation
    if conditions.client is None or not counts(current, revision, conditions.client):
        return
    rejection = await bus.dispatch(
        RejectCandidate(id, revision, conditions.client), delivery_of(request)
    )
    metrics = metrics_of(request)
    if rejection.counted:
        metrics.rollout_rejections.inc()
    if rejection.aborted:
        metrics.rollout_aborts.inc("automatic")

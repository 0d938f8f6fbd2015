"""`config-service`: provision configurations from a directory, and read, watch, roll back;
`get` and `watch` take an application alone too (all its configurations, by name).

Exit codes: 0 done (or nothing to change), 1 error (a 412 stop included, or a file the service
would refuse: nothing is written then), 2 usage error, 3 `apply --check` found differences.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import httpx

from config_service_client import apply as applying
from config_service_client import revisions, trial
from config_service_client import rollout as rollouts
from config_service_client.client import ConfigClient
from config_service_client.directory import DirectoryError, read_directory
from config_service_client.lookup import (
    configs_by_name,
    find_application_id,
    find_configuration,
    read_whole,
)
from config_service_client.service import ServiceError, connect, error_for, unreachable

OK, ERROR, USAGE, DIFFERENCES = 0, 1, 2, 3

EPILOG = """\
The URL is the service's root (e.g. http://127.0.0.1:8000, without /api/v1). --url and --token
may come before or after the command; CONFIG_SERVICE_URL and CONFIG_SERVICE_TOKEN stand in for
them. Exit codes: 0 done (or nothing to change), 1 error (including a 412: someone changed a
configuration after it was read; nothing is overwritten), 2 usage error, 3 apply --check found
differences."""


def connection_options() -> argparse.ArgumentParser:
    # SUPPRESS: a value given before the command is not overwritten by the command's default.
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--url", default=argparse.SUPPRESS, help="the service's root URL")
    options.add_argument("--token", default=argparse.SUPPRESS, help="a bearer token")
    return options


def build_parser() -> argparse.ArgumentParser:
    common = connection_options()
    parser = argparse.ArgumentParser(
        prog="config-service",
        description="Provision and read the Configuration Service's configurations.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    apply = commands.add_parser(
        "apply",
        parents=[common],
        help="make the service match DIR/<application>/<configuration>.json",
        description="Create missing applications and configurations, update changed ones "
        "(If-Match), leave the rest alone; never deletes. Comments: an optional "
        "<configuration>.comments.txt beside the .json. Configurations on the service that DIR "
        "does not have are listed as drift.",
    )
    apply.add_argument("directory", type=Path, metavar="DIR")
    apply.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would change, each change tried by the service (?dry_run); write nothing",
    )
    apply.add_argument(
        "--rollout",
        metavar="SPEC",
        help="every changed configuration becomes a candidate: SPEC is a Config-Rollout "
        "value, e.g. 10 or 10;step=20;every=300;max-failures=3 (see the service's rollouts doc)",
    )
    apply.add_argument(
        "--check",
        action="store_true",
        help="as --dry-run; exit 1 if the service would refuse a file, 3 on differences",
    )
    for name, text in [
        ("get", "print a configuration's config, or every config of an application by name"),
        ("watch", "print every new version (of a configuration, or of a whole application)"),
    ]:
        command = commands.add_parser(name, parents=[common], help=text, description=text)
        command.add_argument("target", metavar="APP[/CONF]")
    commands.choices["watch"].add_argument(
        "--count", type=int, metavar="N", help="stop after N versions (default: never)"
    )
    history = commands.add_parser("history", parents=[common], help="list revisions, newest first")
    history.add_argument("target", metavar="APP/CONF")
    history.add_argument("--limit", type=positive, default=20, help="how many (default 20)")
    rollback = commands.add_parser(
        "rollback", parents=[common], help="put revision N back as a new revision"
    )
    rollback.add_argument("target", metavar="APP/CONF")
    rollback.add_argument("--to", type=positive, required=True, metavar="N", dest="revision")
    rollout = commands.add_parser(
        "rollout",
        parents=[common],
        help="show, start, change, promote or abort a staged rollout",
        description="Without options, show the rollout. --percent starts one (with --file, the "
        "candidate's config) or changes the running one; --promote and --abort end it.",
    )
    rollout.add_argument("target", metavar="APP/CONF")
    ending = rollout.add_mutually_exclusive_group()
    ending.add_argument("--percent", type=percentage, metavar="P", help="1-99")
    ending.add_argument("--promote", action="store_true", help="serve the candidate to everyone")
    ending.add_argument("--abort", action="store_true", help="stop serving the candidate")
    rollout.add_argument("--step", type=positive, metavar="S", help="with --every: +S points")
    rollout.add_argument("--every", type=positive, metavar="SECONDS", help="with --step")
    rollout.add_argument("--max-failures", type=positive, metavar="N", dest="max_failures")
    rollout.add_argument("--file", type=Path, metavar="FILE", help="the candidate's config (JSON)")
    return parser


def percentage(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 99:
        raise argparse.ArgumentTypeError(f"a percentage from 1 to 99: {text!r}")
    return int(text)


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive integer: {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    url = getattr(arguments, "url", None) or os.environ.get("CONFIG_SERVICE_URL")
    token = getattr(arguments, "token", None) or os.environ.get("CONFIG_SERVICE_TOKEN") or None
    if not url:
        parser.error("the service's URL is needed: --url or CONFIG_SERVICE_URL")
    if arguments.command in ("history", "rollback", "rollout") and "/" not in arguments.target:
        parser.error(f"{arguments.target!r} is not APP/CONF")
    try:
        return COMMANDS[arguments.command](arguments, url, token)
    except (ServiceError, DirectoryError) as error:
        print(f"config-service: {error}", file=sys.stderr)
        return ERROR
    except httpx.TransportError as error:
        print(f"config-service: {unreachable(url, error)}", file=sys.stderr)
        return ERROR
    except KeyboardInterrupt:
        return OK


def run_apply(arguments: argparse.Namespace, url: str, token: str | None) -> int:
    applications = read_directory(arguments.directory)
    with connect(url, token) as http:
        planned = applying.plan(http, applications)
        # Tried first (?dry_run): a file the service would refuse stops the run, nothing written.
        writing = not (arguments.dry_run or arguments.check)
        try:
            refused = trial.refusals(http, planned, arguments.rollout)
        except trial.NotTried as not_tried:
            if writing:  # its writes would be refused alike
                raise error_for(not_tried.response) from None
            print(f"config-service: changes not tried with ?dry_run ({not_tried})", file=sys.stderr)
            refused = []
        writing = writing and not refused
        if writing:
            applying.execute(http, planned, print, arguments.rollout)
        else:
            for change in planned.changes:
                print(change)
    for refusal in refused:
        print(refusal, file=sys.stderr)
    for name in planned.drift:
        print(f"drift {name}: on the service, not in {arguments.directory}")
    done = "changed" if writing else "to change"
    print(
        f"{len(planned.changes)} {done}, {planned.unchanged} unchanged, {len(planned.drift)} drift"
        + (f", {len(refused)} refused: nothing written" if refused else "")
    )
    if refused:
        return ERROR
    return DIFFERENCES if arguments.check and planned.changes else OK


def split(target: str) -> tuple[str, str]:
    application, _, configuration = target.partition("/")
    return application, configuration


def run_get(arguments: argparse.Namespace, url: str, token: str | None) -> int:
    application, configuration = split(arguments.target)
    with connect(url, token) as http:
        if configuration:
            config = find_configuration(http, application, configuration).json()["config"]
        else:
            config = configs_by_name(read_whole(http, find_application_id(http, application)))
    print(json.dumps(config, indent=2, ensure_ascii=False))
    return OK


def run_watch(arguments: argparse.Namespace, url: str, token: str | None) -> int:
    application, configuration = split(arguments.target)
    # Without /CONF, the whole application: each version a mapping of configuration names.
    follower = ConfigClient(url, token).follow(
        application=application, configuration=configuration or None
    )
    seen = []

    @follower.on_change
    def show(config: dict) -> None:
        print(json.dumps(config, ensure_ascii=False), flush=True)
        seen.append(config)
        if arguments.count and len(seen) >= arguments.count:
            follower.stop()

    follower.start()
    follower.join()
    if follower.error is not None:
        raise follower.error
    return OK


def run_history(arguments: argparse.Namespace, url: str, token: str | None) -> int:
    with connect(url, token) as http:
        current = find_configuration(http, *split(arguments.target))
        entries = list(revisions.history(http, current.json()["id"], arguments.limit))
    print("\t".join(revisions.HISTORY_FIELDS))
    for entry in entries:
        print(
            "\t".join(
                "-" if entry.get(key) is None else str(entry[key])
                for key in revisions.HISTORY_FIELDS
            )
        )
    return OK


def run_rollback(arguments: argparse.Namespace, url: str, token: str | None) -> int:
    target, wanted = arguments.target, arguments.revision
    with connect(url, token) as http:
        current = find_configuration(http, *split(target))
        was = current.headers.get("Revision")
        if was == str(wanted):
            print(f"{target}: revision {wanted} is the current one; nothing to do")
            return OK
        response = revisions.rollback(http, current, wanted)
    now = response.headers.get("Revision", "?")
    if now == was:  # the service records no revision for a PUT that changes nothing
        print(
            f"{target}: revision {now}, the current one, holds what {wanted} did; nothing changed"
        )
    else:
        print(f"{target}: revision {wanted} put back, now revision {now}")
    return OK


def run_rollout(arguments: argparse.Namespace, url: str, token: str | None) -> int:
    target = arguments.target
    if (arguments.step is None) != (arguments.every is None):
        raise ServiceError("--step and --every go together")
    with connect(url, token) as http:
        current = find_configuration(http, *split(target))
        if arguments.percent is not None:
            header = rollouts.spec(
                arguments.percent, arguments.step, arguments.every, arguments.max_failures
            )
            rollouts.change(http, current, header, arguments.file)
        elif arguments.promote or arguments.abort:
            rollouts.change(http, current, "100" if arguments.promote else "0")
        current = find_configuration(http, *split(target))
        print(f"{target}: {rollouts.describe(http, current)}")
    return OK


COMMANDS = {
    "apply": run_apply,
    "get": run_get,
    "watch": run_watch,
    "history": run_history,
    "rollback": run_rollback,
    "rollout": run_rollout,
}

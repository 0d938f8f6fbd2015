"""The cost of scoped tokens: the same GETs with a global token and with a scoped one.

One service reads a tokens file of 50 entries (`tokens_file`): the global token, the scoped
one (its one pattern covers every seeded application, so both read the same bytes) and 48
other teams'. Global and scoped runs alternate, round after round, on the same server.
"""

import secrets
from pathlib import Path

from bench import report, scripts
from bench.data import Seeded
from bench import servers
from config_service.access.tokens import digest_of

ENTRIES = 50
SCOPED_PATTERN = "bench-app-*"  # bench.data.seed's application names


def _entry(name: str, secret: str, patterns: list[str]) -> str:
    applications = ", ".join(f'"{pattern}"' for pattern in patterns)
    return (
        f'[[token]]\nname = "{name}"\nsha256 = "{digest_of(secret)}"\nrole = "read"\n'
        f"applications = [{applications}]\n"
    )


def tokens_file(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Write the file; the Authorization headers of the global and of the scoped token."""
    global_secret, scoped_secret = secrets.token_hex(32), secrets.token_hex(32)
    entries = [
        _entry("bench-global", global_secret, ["*"]),
        _entry("bench-scoped", scoped_secret, [SCOPED_PATTERN]),
        *(
            _entry(f"team-{n}", secrets.token_hex(32), [f"team-{n}-*", f"team-{n}"])
            for n in range(ENTRIES - 2)
        ),
    ]
    path.write_text("\n".join(entries))
    return (
        {"Authorization": f"Bearer {global_secret}"},
        {"Authorization": f"Bearer {scoped_secret}"},
    )


def access_phase(bench, dsn: str, log_dir: Path, seeded: Seeded, repetitions: int) -> None:
    """Interleaved rounds: GET configuration from memory, then a list page, each token."""
    global_headers, scoped_headers = tokens_file(bench.work / "tokens.toml")
    configurations = list(seeded.etags)
    path = str(bench.work / "tokens.toml")

    def get_each(paths: list[str], headers: dict[str, str]):
        return lambda: scripts.cycling([("GET", each, headers, None) for each in paths])

    lists = ["/api/v1/applications"]
    with servers.service("service-tokens", dsn, log_dir, api_tokens_file=path) as service:
        for number in range(repetitions):
            for pair in (
                [(report.TOKEN_GLOBAL, global_headers), (report.TOKEN_SCOPED, scoped_headers)],
                [(report.LIST_GLOBAL, global_headers), (report.LIST_SCOPED, scoped_headers)],
            ):
                # Each side first in every other round: neither always follows the other.
                for name, headers in pair if number % 2 == 0 else reversed(pair):
                    paths = (
                        lists
                        if name in (report.LIST_GLOBAL, report.LIST_SCOPED)
                        else configurations
                    )
                    bench.measure(name, service.url, get_each(paths, headers))

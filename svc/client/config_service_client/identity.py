"""Who a runtime is to the service: the `Config-Client` id that places it in or out of a
rollout's cohort (the service's docs/rollouts.md). Not a credential.

Stable across restarts of the same instance, so that a rollout's cohort keeps its runtimes:
kept in a file beside the disk cache, written once, atomically. Without a cache directory
there is nowhere to keep it: a new id per process.
"""

import logging
import os
import re
import socket
import tempfile
import uuid
from pathlib import Path

log = logging.getLogger("config_service_client")
FILE = "client-id"
# What the service accepts: 1-128 visible ASCII characters.
VALID = re.compile(r"[\x21-\x7e]{1,128}")


def new_client_id() -> str:
    """The host's name (visible ASCII only) and a random part, e.g. `web-3-5f1c9a0e2b7d`."""
    host = re.sub(r"[^\x21-\x7e]", "", socket.gethostname())[:64] or "runtime"
    return f"{host}-{uuid.uuid4().hex[:12]}"


def stable_client_id(directory: str | os.PathLike | None) -> str:
    """The id kept in `directory` (made and kept the first time); a new one without it."""
    if directory is None:
        return new_client_id()
    path = Path(directory) / FILE
    try:
        kept = path.read_text().strip()
        if VALID.fullmatch(kept):
            return kept
        log.warning("ignoring the malformed client id in %s", path)
    except FileNotFoundError:
        pass
    except OSError as error:
        log.warning("could not read the client id in %s: %s", path, error)
        return new_client_id()
    made = new_client_id()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as temporary:
            temporary.write(made + "\n")
        os.replace(temporary.name, path)
    except OSError as error:
        log.warning("could not keep the client id in %s: %s", path, error)
    return made

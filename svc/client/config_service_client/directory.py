"""The directory `apply` reads: <application>/<configuration>.json, each holding the config.

A configuration's comments, when managed here, are in <configuration>.comments.txt beside it
(its text, without the final newline); without that file the service's comments are left as
they are (and are "" for a configuration apply creates).
"""

import json
from pathlib import Path
from typing import NamedTuple

COMMENTS_SUFFIX = ".comments.txt"


class Desired(NamedTuple):
    """One configuration as the directory says it should be."""

    application: str
    name: str
    config: dict
    comments: str | None  # None: not managed by the directory


class DirectoryError(Exception):
    """The directory cannot be applied as it is (a message naming the file)."""


def read_directory(root: Path) -> dict[str, list[Desired]]:
    """The applications in `root` and their configurations, sorted by name."""
    if not root.is_dir():
        raise DirectoryError(f"{root} is not a directory")
    applications: dict[str, list[Desired]] = {}
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        if folder.name.startswith("."):
            continue
        files = sorted(path for path in folder.glob("*.json") if path.is_file())
        applications[folder.name] = [read_configuration(folder.name, file) for file in files]
    return applications


def read_configuration(application: str, file: Path) -> Desired:
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, OSError) as error:
        raise DirectoryError(f"{file}: not readable JSON: {error}") from None
    if not isinstance(config, dict):
        raise DirectoryError(f"{file}: a configuration must be a JSON object")
    comments_file = file.with_name(file.stem + COMMENTS_SUFFIX)
    comments = None
    if comments_file.is_file():
        comments = comments_file.read_text(encoding="utf-8").removesuffix("\n")
    return Desired(application, file.stem, config, comments)

"""The directory `apply` reads: <application>/<configuration>.json, each holding the config.

A configuration's comments, when managed here, are in <configuration>.comments.txt beside it
(its text, without the final newline); without that file the service's comments are left as
they are (and are "" for a configuration apply creates).

A configuration's schema is named as editors read it: `"$schema": "./schema.json"` (or
`"../other-application/schema.json"`), a file of this directory whose config is a JSON Schema.
apply attaches the configuration to that schema (its `describedby` link) and does not send the
key. A `$schema` that is not such a path (a schema's own `"https://json-schema.org/..."`) is
part of the config.
"""

import json
from pathlib import Path
from typing import NamedTuple

COMMENTS_SUFFIX = ".comments.txt"
SCHEMA_KEY = "$schema"


class Desired(NamedTuple):
    """One configuration as the directory says it should be."""

    application: str
    name: str
    config: dict
    comments: str | None  # None: not managed by the directory
    schema: tuple[str, str] | None = None  # (application, configuration) its $schema names


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
    schema = schema_of(file, config)
    if schema is not None:
        config = {key: value for key, value in config.items() if key != SCHEMA_KEY}
    return Desired(application, file.stem, config, comments, schema)


def schema_of(file: Path, config: dict) -> tuple[str, str] | None:
    """The (application, configuration) a `"$schema": "./x.json"` names, or None."""
    value = config.get(SCHEMA_KEY)
    if not isinstance(value, str) or not value.startswith(("./", "../")):
        return None
    target = (file.parent / value).resolve()
    if target.suffix != ".json" or target.parent.parent != file.parent.parent.resolve():
        raise DirectoryError(
            f"{file}: $schema {value!r} must name a .json file of this directory: "
            "./name.json or ../application/name.json"
        )
    if not target.is_file():
        raise DirectoryError(f"{file}: $schema {value!r}: no such file")
    return target.parent.name, target.stem

"""Migration folders for tests: some of the shipped files, or files of a test's own."""

from collections.abc import Iterable
from pathlib import Path

from config_service.store.migration_files import Migration, discover


def files_of(migrations: Iterable[Migration]) -> dict[str, str]:
    """Each migration's text by its path in a migrations folder (NNNN_name.sql or
    functions/name.sql)."""
    return {f"{migration.label}.sql": migration.sql for migration in migrations}


def write_files(directory: Path, files: dict[str, str]) -> Path:
    """Write each file's text at its path below `directory`; returns `directory`."""
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return directory


# The versioned files of the release before repeatable migrations: 0001 to 0010.
RELEASED_BEFORE = files_of(m for m in discover() if m.version is not None and m.version <= 10)
# What lets the migrations table record repeatable files (0011): a folder of a test's own
# with functions/ needs it first.
RECORDS_REPEATABLE = files_of(m for m in discover() if m.name == "record_repeatable_migrations")

"""The migration files, as store/migrations.py applies them: versioned and repeatable.

Versioned, `migrations/NNNN_name.sql`: tables, indexes, triggers, and any change of data.
Applied once each, in version order; a file once applied never changes (its checksum is
checked), so a change is a new file.

Repeatable (Flyway's word), `migrations/functions/<function>.sql`: the current body of one
SQL or plpgsql function, as CREATE OR REPLACE FUNCTION, so each function is read in one file.
Applied after the versioned files, in name order, whenever its text is one the database has
not had. (A new SQL-language function that calls another new one needs a name after it:
PostgreSQL checks a SQL function's body when it is created, a plpgsql one's when it runs.)
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
FUNCTIONS = "functions"  # the folder of the repeatable migrations, inside MIGRATIONS_DIR
VERSIONED_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
FUNCTION_NAME = re.compile(r"^(?P<name>[a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    """The migrations on disk and in the database cannot be reconciled."""


@dataclass(frozen=True)
class Migration:
    version: int | None  # None: a repeatable migration, known by its name
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def repeatable(self) -> bool:
        return self.version is None

    @property
    def label(self) -> str:
        """How logs, errors and readiness name it: `0007_configuration_revisions`, or
        `functions/configuration_put` (its file, less `.sql`)."""
        if self.version is None:
            return f"{FUNCTIONS}/{self.name}"
        return f"{self.version:04d}_{self.name}"


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The versioned migrations in version order, then the repeatable ones in name order; a
    misnamed file or a version used twice is an error."""
    versioned: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = VERSIONED_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lower_snake.sql")
        version = int(match["version"])
        if version in versioned:
            raise MigrationError(f"{path.name}: version {version} is used twice")
        versioned[version] = Migration(version, match["name"], path.read_text(encoding="utf-8"))
    repeatable = []
    for path in sorted((directory / FUNCTIONS).glob("*.sql")):
        match = FUNCTION_NAME.match(path.name)
        if match is None:
            raise MigrationError(
                f"{FUNCTIONS}/{path.name}: function files are named lower_snake.sql"
            )
        repeatable.append(Migration(None, match["name"], path.read_text(encoding="utf-8")))
    return [versioned[version] for version in sorted(versioned)] + repeatable

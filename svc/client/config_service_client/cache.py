"""The last version seen, on disk, so a runtime can start while the service is unreachable.

Written atomically (a temporary file in the same directory, fsync, rename, fsync of the
directory): a reader sees the old file or the new one, never half of one. A file is trusted
only with this format's marker, the expected key and a checksum of its content, so a truncated,
corrupt or foreign file is ignored with a warning.
"""

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

FORMAT = "config-service-client/cache/1"
log = logging.getLogger("config_service_client")


@dataclass(frozen=True)
class CachedVersion:
    """A version of a configuration as the service sent it, and when."""

    key: str
    id: str
    etag: str
    revision: int | None
    config: dict
    fetched_at: str  # ISO 8601, UTC

    def age(self) -> float:
        """Seconds since it was fetched (from the wall clock: it survives restarts)."""
        fetched = datetime.fromisoformat(self.fetched_at)
        return max(0.0, (datetime.now(timezone.utc) - fetched).total_seconds())


def checksum(content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class DiskCache:
    """One file per followed configuration in `directory`, named after its key."""

    def __init__(self, directory: str | os.PathLike, key: str):
        self.directory = Path(directory)
        self.key = key
        self.path = self.directory / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"

    def write(self, version: CachedVersion) -> None:
        """Replace the file with `version`, atomically and durably."""
        content = {"format": FORMAT, **asdict(version)}
        data = json.dumps({**content, "checksum": checksum(content)}, ensure_ascii=False)
        self.directory.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)

    def read(self) -> CachedVersion | None:
        """The cached version, or None (a missing file; an untrustworthy one, with a warning)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            log.warning("ignoring the cache file %s: %s", self.path, error)
            return None
        problem = self._problem(text)
        if problem:
            log.warning("ignoring the cache file %s: %s", self.path, problem)
            return None
        content = json.loads(text)
        return CachedVersion(**{field: content[field] for field in FIELDS})

    def _problem(self, text: str) -> str | None:
        """Why `text` is not a version this cache wrote for this key, or None."""
        try:
            content = json.loads(text)
        except ValueError:
            return "not JSON (truncated or corrupt)"
        if not isinstance(content, dict) or content.get("format") != FORMAT:
            return "not a cache file of this client"
        stated = content.pop("checksum", None)
        if stated != checksum(content):
            return "its checksum does not match its content"
        if content.get("key") != self.key:
            return f"it caches {content.get('key')!r}, not {self.key!r}"
        if not valid_fields(content):
            return "fields missing or of the wrong type"
        return None


FIELDS = {
    "key": str,
    "id": str,
    "etag": str,
    "revision": (int, type(None)),
    "config": dict,
    "fetched_at": str,
}


def valid_fields(content: dict) -> bool:
    if not all(isinstance(content.get(name), kind) for name, kind in FIELDS.items()):
        return False
    try:
        return datetime.fromisoformat(content["fetched_at"]).tzinfo is not None
    except ValueError:
        return False

"""Tokens files for tests: secrets made here, their digests written in TOML."""

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FileToken:
    name: str
    role: str
    applications: tuple[str, ...]
    secret: str = field(default_factory=lambda: secrets.token_hex(16))
    expires: str | None = None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.secret.encode()).hexdigest()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}

    def toml(self) -> str:
        lines = [
            "[[token]]",
            f"name = {json.dumps(self.name)}",
            f'sha256 = "{self.digest}"',
            f'role = "{self.role}"',
            f"applications = {json.dumps(list(self.applications))}",
        ]
        if self.expires is not None:
            lines.append(f"expires = {self.expires}")
        return "\n".join(lines) + "\n"


def write_tokens_file(path: Path, *tokens: FileToken) -> Path:
    """Write the file whole in one rename, as an editor that saves safely does."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text("\n".join(token.toml() for token in tokens))
    partial.replace(path)
    return path

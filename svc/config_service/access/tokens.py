"""Who may call the API: the tokens file (API_TOKENS_FILE) and API_READ_TOKENS/API_WRITE_TOKENS,
read into one table from the SHA-256 digest of a secret to the caller it identifies.

The file is TOML, read with tomllib; it holds digests, never secrets:

    [[token]]
    name = "ci-payments"                          # in logs and change records
    sha256 = "9f86d081884c7d659a2feaa0c55ad015…"  # printf %s "$SECRET" | sha256sum
    role = "write"                                # "read" or "write" (write includes read)
    applications = ["payments", "payments-*"]     # exact names, prefixes ending in "*", or "*"
    expires = 2027-01-31T00:00:00Z                # optional, an RFC 3339 instant
"""

import hashlib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from starlette.types import Scope

from config_service.access.scope import EVERYTHING, ApplicationScope

type Role = Literal["read", "write"]
ROLES = ("read", "write")
ENTRY_KEYS = frozenset({"name", "sha256", "role", "applications", "expires"})
REQUIRED_KEYS = ("name", "sha256", "role", "applications")
# Safe in a log line, a metrics label and a change record as it is; never a ":", so that a
# change made outside the API (recorded as "db:<role>": record_configuration_revision.sql)
# cannot pass for one.
TOKEN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
# Names of tokens from the environment: a slow, salted hash of the secret, cut to 32 bits.
GENERATED_NAME_SALT = b"config-service: name of an environment token"


class TokensFileError(ValueError):
    """The tokens file cannot be used; the message names the entry at fault."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request, as the authenticating middleware found it (the ASGI scope's
    state["caller"]). `name` is None when the API runs without tokens."""

    name: str | None
    role: Role
    scope: ApplicationScope

    @property
    def may_write(self) -> bool:
        return self.role == "write"


# Without tokens, every request is this caller: it may do anything, and has no name.
ANONYMOUS = Caller(name=None, role="write", scope=EVERYTHING)


def caller_of(scope: Scope) -> Caller:
    """The request's caller; ANONYMOUS when the API runs without tokens."""
    return scope.get("state", {}).get("caller", ANONYMOUS)


@dataclass(frozen=True, slots=True)
class Token:
    caller: Caller
    digest: str  # lower-case hex SHA-256 of the secret
    expires: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires


@dataclass(frozen=True, slots=True)
class TokenTable:
    """Every token in force, by digest: the middleware hashes what it is sent and looks it up."""

    by_digest: dict[str, Token]

    @classmethod
    def of(cls, tokens: Iterable[Token]) -> "TokenTable":
        """ValueError when two tokens share a name or a digest."""
        by_digest: dict[str, Token] = {}
        names: set[str] = set()
        for token in tokens:
            if token.caller.name in names:
                raise TokensFileError(f"token {token.caller.name!r}: its name is taken twice")
            if token.digest in by_digest:
                raise TokensFileError(
                    f"token {token.caller.name!r}: its sha256 is also that of token "
                    f"{by_digest[token.digest].caller.name!r}"
                )
            names.add(token.caller.name)
            by_digest[token.digest] = token
        return cls(by_digest)

    def __len__(self) -> int:
        return len(self.by_digest)

    def find(self, secret: bytes) -> Token | None:
        """The token this secret is, or None.

        A dict lookup is not constant-time, but what it compares is the SHA-256 of the secret
        sent, so its timing can at most tell how much of a guess's digest matches a stored
        one: that brings an attacker no closer to a secret (it would take a preimage).
        """
        return self.by_digest.get(hashlib.sha256(secret).hexdigest())


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generated_name(role: Role, secret: str) -> str:
    """A stable name for a token from the environment, e.g. `read-3f9a0c12`.

    Stable across restarts and workers, and no help in recovering the secret: 32 bits of a
    salted scrypt (memory-hard, ~20 ms a guess), so a random secret stays unguessable, and a
    name fits billions of secrets, so it cannot confirm one.
    """
    derived = hashlib.scrypt(secret.encode(), salt=GENERATED_NAME_SALT, n=2**13, r=8, p=1)
    return f"{role}-{derived[:4].hex()}"


def environment_tokens(read_tokens: Iterable[str], write_tokens: Iterable[str]) -> list[Token]:
    """API_READ_TOKENS and API_WRITE_TOKENS: global scope, generated names."""
    tokens = []
    for role, secrets in (("write", write_tokens), ("read", read_tokens)):
        for secret in sorted(secrets):
            caller = Caller(generated_name(role, secret), role, EVERYTHING)
            tokens.append(Token(caller, digest_of(secret)))
    return tokens


def read_tokens_file(path: Path) -> list[Token]:
    """The tokens of the file; TokensFileError says what is wrong and in which entry."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TokensFileError(f"cannot read {path}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise TokensFileError(f"{path} is not UTF-8 text") from error
    except tomllib.TOMLDecodeError as error:
        raise TokensFileError(f"{path} is not valid TOML: {error}") from error
    unknown = sorted(set(document) - {"token"})
    if unknown:
        raise TokensFileError(f"{path}: unknown key {unknown[0]!r} (entries are [[token]])")
    entries = document.get("token", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise TokensFileError(f"{path}: `token` must be an array of tables, [[token]]")
    if not entries:
        raise TokensFileError(f"{path} defines no [[token]]: nobody could call the API")
    return [_token(number, entry) for number, entry in enumerate(entries, start=1)]


def _token(number: int, entry: dict) -> Token:
    name = entry.get("name")
    label = f"token {name!r}" if isinstance(name, str) else f"token #{number}"

    def fail(reason: str) -> TokensFileError:
        return TokensFileError(f"{label}: {reason}")

    for key in REQUIRED_KEYS:
        if key not in entry:
            raise fail(f"`{key}` is missing")
    unknown = sorted(set(entry) - ENTRY_KEYS)
    if unknown:
        raise fail(f"unknown key {unknown[0]!r}")
    if not isinstance(name, str) or not TOKEN_NAME.fullmatch(name):
        raise fail("`name` must be 1-64 letters, digits or ._@- (starting with a letter or digit)")
    digest = entry["sha256"]
    if not isinstance(digest, str) or not SHA256_HEX.fullmatch(digest):
        raise fail("`sha256` must be 64 hex digits, the SHA-256 of the secret (not the secret)")
    role = entry["role"]
    if role not in ROLES:
        raise fail(f'`role` must be "read" or "write", not {role!r}')
    patterns = entry["applications"]
    if not isinstance(patterns, list) or not patterns:
        raise fail('`applications` must be a non-empty list of patterns, e.g. ["payments-*"]')
    try:
        scope = ApplicationScope.of(patterns)
    except ValueError as error:
        raise fail(f"`applications`: {error}") from None
    expires = _instant(entry.get("expires"), fail)
    return Token(Caller(name, role, scope), digest.lower(), expires)


def _instant(value: object, fail) -> datetime | None:
    """An RFC 3339 instant: a TOML offset date-time or a string of one; never a local time."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise fail(f"`expires` {value!r} is not an RFC 3339 instant") from None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise fail("`expires` must be an instant with its offset, e.g. 2027-01-31T00:00:00Z")
    return value.astimezone(UTC)

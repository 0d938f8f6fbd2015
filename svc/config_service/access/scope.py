"""Which applications a token may touch: its patterns, matched by name, in Python and in SQL.

A pattern is an exact application name, a prefix ending in "*" (`payments-*`), or "*" alone
(every application). Names compare exactly and case-sensitively, as the unique index on
`applications.name` does: `payments-*` allows `payments-api`, not `payments` nor `Payments-x`.
"""

from dataclasses import dataclass, field

EVERY_APPLICATION = "*"
# The longest pattern: an application name (256 characters) or a prefix of one, plus "*".
MAX_PATTERN_LENGTH = 257


def _like_prefix(prefix: str) -> str:
    """`prefix` as a LIKE pattern matching every name that starts with it (backslash escapes)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


@dataclass(frozen=True, slots=True)
class ApplicationScope:
    """A token's application-name patterns, precomputed: a set of exact names, a tuple of
    prefixes, or everything. A check costs a set lookup and one C-level startswith."""

    everything: bool = False
    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    _like: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_like", tuple(_like_prefix(p) for p in self.prefixes))

    @classmethod
    def of(cls, patterns: list[str] | tuple[str, ...]) -> "ApplicationScope":
        """From a token's `applications` list; ValueError names the first bad pattern."""
        exact: set[str] = set()
        prefixes: set[str] = set()
        for pattern in patterns:
            check_pattern(pattern)
            if pattern == EVERY_APPLICATION:
                return EVERYTHING
            if pattern.endswith("*"):
                prefixes.add(pattern[:-1])
            else:
                exact.add(pattern)
        # A name a prefix already covers needs no set entry; a prefix another covers, none.
        kept = sorted(p for p in prefixes if not any(p.startswith(q) and p != q for q in prefixes))
        exact = {name for name in exact if not name.startswith(tuple(kept))}
        return cls(exact=frozenset(exact), prefixes=tuple(kept))

    def allows(self, name: str) -> bool:
        """Whether an application of this exact name is in scope."""
        return self.everything or name in self.exact or name.startswith(self.prefixes)

    def sql_parameters(self) -> dict[str, object]:
        """Parameters for SCOPE_CONDITION: `everything`, `exact` names, escaped LIKE `prefixes`."""
        return {
            "everything": self.everything,
            "exact": sorted(self.exact),
            "prefixes": list(self._like),
        }


# The SQL form of `allows` on `a.name` (an applications row aliased `a`); a constant, never
# values. application_in_scope (migration 0009) is inlined by PostgreSQL, and psycopg2 sends
# `true` for a global scope, which PostgreSQL then folds away.
SCOPE_CONDITION = """
    application_in_scope(a.name, %(everything)s, %(exact)s::text[], %(prefixes)s::text[])
"""


def check_pattern(pattern: object) -> None:
    """ValueError unless `pattern` is a name, a prefix ending in "*", or "*" alone."""
    if not isinstance(pattern, str):
        raise ValueError(f"pattern {pattern!r} is not a string")
    if not pattern.strip():
        raise ValueError("an empty pattern matches no application")
    if len(pattern) > MAX_PATTERN_LENGTH or (
        len(pattern) == MAX_PATTERN_LENGTH and not pattern.endswith("*")
    ):
        raise ValueError(f"pattern {pattern[:40]!r}… is longer than any application name")
    if "*" in pattern[:-1]:
        raise ValueError(f"pattern {pattern!r}: '*' may only end a pattern")
    if "\x00" in pattern:
        raise ValueError("a pattern cannot hold NUL")


EVERYTHING = ApplicationScope(everything=True)

"""What a caller may see and change: scope decisions on resources, answered so that nothing
outside the scope can be told apart from what does not exist.

A representation carries the name of the application that decides its scope; a read checks
it after the read (from memory or PostgreSQL) and before a watch holds, and again when a
watch wakes, since a rename may have moved it out. Out of scope, a read is the very 404 of an
id nobody has (`missing`).
"""

from config_service.access.tokens import Caller
from config_service.errors import NotFound, OutOfScope, missing
from config_service.keys import resource_of
from config_service.representation import Representation


def missing_key(key: str) -> NotFound:
    """`missing` for a read-model key, `kind:id` (keys.py): a view's is its resource's."""
    return missing(*resource_of(key))


def check_visible(key: str, representation: Representation, caller: Caller) -> None:
    """Raise the 404 of a missing id unless the caller's scope holds the representation."""
    if not caller.scope.allows(representation.application_name):
        raise missing_key(key)


def check_may_name(caller: Caller, name: str) -> None:
    """A write may give an application only a name in the caller's scope: else 403."""
    if not caller.scope.allows(name):
        raise OutOfScope(
            f"This token may not touch an application named {name!r}: it is outside the "
            "token's applications."
        )

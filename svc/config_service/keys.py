"""How representations are named in memory and in PostgreSQL's change notifications, and
which of them each change touches: the one place for both.

Migration 0004's triggers write the same names in SQL (`'application:' || id`) and NOTIFY
them on every commit; keys_test.py commits each command and checks that what the triggers
announce is what these rules say. (Migrations 0003-0005 cite `revalidation.py` and
`read_model/model.py` for these names: applied files keep their checksums, so their comments stay.)
"""

APPLICATION = "application"
CONFIGURATION = "configuration"
# Where the resources are on the wire: `{API_PREFIX}/{kind}s/{id}`.
API_PREFIX = "/api/v1"
CONFIGURATIONS_PATH = f"{API_PREFIX}/{CONFIGURATION}s"
# The key of a notification that any representation may have changed (a TRUNCATE, 0005).
EVERYTHING = "*"


def key_of(kind: str, resource_id: str) -> str:
    """`kind:id`, so an id can never be mistaken for another resource's."""
    return f"{kind}:{resource_id}"


def application(application_id: str) -> str:
    return key_of(APPLICATION, application_id)


def configuration(configuration_id: str) -> str:
    return key_of(CONFIGURATION, configuration_id)


# What each change touches, besides the representation it creates (which nobody holds yet).


def application_updated(application_id: str) -> tuple[str, ...]:
    return (application(application_id),)


def application_renamed(configuration_ids: list[str]) -> tuple[str, ...]:
    """A rename also touches the application's configurations: their bytes stay the same,
    but their scope follows the application's name (migration 0006 NOTIFYs them). The command
    does not know their ids, so every worker, this one too, learns them from PostgreSQL."""
    return tuple(configuration(configuration_id) for configuration_id in configuration_ids)


def configuration_created(application_id: str) -> tuple[str, ...]:
    return (application(application_id),)  # its configuration_ids grow


def configuration_updated(configuration_id: str) -> tuple[str, ...]:
    return (configuration(configuration_id),)  # it never moves: its application is unchanged

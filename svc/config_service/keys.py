"""How representations are named in memory and in PostgreSQL's change notifications, and
which of them each change touches: the one place for both.

The triggers write the same names in SQL (`'application:' || id`, in
store/migrations/functions/notify_*.sql) and NOTIFY them on every commit; keys_test.py commits
each command and checks that what the triggers announce is what these rules say.

A view of a resource (its kind `resource+what`: an application with its configurations) is
named by no trigger: `views_of` says which notified key stands for it, and keys_test.py that
every change the view shows is notified with that key.
"""

APPLICATION = "application"
CONFIGURATION = "configuration"
# A view: an application with its configurations embedded (`?include=configurations`). No
# trigger names it; a notification of its application's key stands for it (`views_of`).
APPLICATION_CONFIGURATIONS = "application+configurations"
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


def application_configurations(application_id: str) -> str:
    return key_of(APPLICATION_CONFIGURATIONS, application_id)


def resource_of(key: str) -> tuple[str, str]:
    """The kind and id of the resource a key names; a view's is the resource it is a view of
    (`application+configurations:A` names the application A)."""
    kind, _, resource_id = key.partition(":")
    return kind.partition("+")[0], resource_id


def views_of(key: str) -> tuple[str, ...]:
    """The keys that changed with `key` although no trigger names them.

    An application with its configurations changes exactly when its application's key is
    notified: notify_configuration_changed.sql names the application on every change of one of
    its configurations' rows (insert, update, delete; the ids alone would not need it for an
    update), notify_application_changed.sql on every change of its own row, a rename included
    (keys_test.py holds both). A configuration's schema attachment (its Link and ETag) is not
    in the view's bytes, which embed no headers, so it need not name the application.
    """
    kind, _, resource_id = key.partition(":")
    return (application_configurations(resource_id),) if kind == APPLICATION else ()


# What each change touches, besides the representation it creates (which nobody holds yet).


def application_updated(application_id: str) -> tuple[str, ...]:
    return (application(application_id),)


def application_renamed(configuration_ids: list[str]) -> tuple[str, ...]:
    """A rename also touches the application's configurations: their bytes stay the same,
    but their scope follows the application's name (a trigger NOTIFYs them:
    notify_renamed_application_configurations.sql). The command does not know their ids, so
    every worker, this one too, learns them from PostgreSQL."""
    return tuple(configuration(configuration_id) for configuration_id in configuration_ids)


def configuration_created(application_id: str) -> tuple[str, ...]:
    return (application(application_id),)  # its configuration_ids grow


def configuration_updated(configuration_id: str, application_id: str) -> tuple[str, ...]:
    """It never moves, and its application's own representation stays the same, but the
    application with its configurations (a view of the application's key) changes."""
    return (configuration(configuration_id), application(application_id))

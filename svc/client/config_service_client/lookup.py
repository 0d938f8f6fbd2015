"""Finding things by name: an application by its name, a configuration by its and its app's;
and an application read whole, with all its configurations in one request."""

import httpx

from config_service_client.service import FatalError, error_for


def get(http: httpx.Client, path: str, **options) -> httpx.Response:
    """A GET that must succeed: anything but 200 raises the error it stands for."""
    response = http.get(path, **options)
    if response.status_code != 200:
        raise error_for(response)
    return response


def find_application(http: httpx.Client, name: str) -> dict | None:
    """The application named `name`, or None."""
    found = get(http, "/applications", params={"name": name}).json()
    return found[0] if found else None


def read_whole(http: httpx.Client, application_id: str, **options) -> dict:
    """The application with its configurations (`?include=configurations`): one request, one
    snapshot, each configuration as its own GET answers it, without its headers."""
    params = {"include": "configurations"}
    return get(http, f"/applications/{application_id}", params=params, **options).json()


def by_name(application: dict) -> dict[str, dict]:
    """The configurations of an application read whole, by name."""
    return {item["name"]: item for item in application["configurations"]}


def configs_by_name(application: dict) -> dict[str, dict]:
    """What a runtime of an application read whole uses: each configuration's config, by name."""
    return {item["name"]: item["config"] for item in application["configurations"]}


def find_application_id(http: httpx.Client, name: str) -> str:
    """The id of the application named `name`; a 404 FatalError naming it when there is none."""
    found = find_application(http, name)
    if found is None:
        raise FatalError(f"no application named {name!r}", 404)
    return found["id"]


def find_configuration(http: httpx.Client, application: str, configuration: str) -> httpx.Response:
    """The GET of the configuration `configuration` of the application `application`."""
    item = by_name(read_whole(http, find_application_id(http, application))).get(configuration)
    if item is None:
        message = f"no configuration {configuration!r} in the application {application!r}"
        raise FatalError(message, 404)
    return get(http, f"/configurations/{item['id']}")  # its own GET: its ETag and Revision

"""Finding things by name: an application by its name, a configuration by its and its app's."""

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


def configurations_of(http: httpx.Client, application: dict) -> dict[str, httpx.Response]:
    """The application's configurations by name, each as the GET that read it (body, ETag)."""
    responses = (
        get(http, f"/configurations/{id}", headers={"Cache-Control": "no-cache"})
        for id in application["configuration_ids"]
    )
    return {response.json()["name"]: response for response in responses}


def find_configuration(http: httpx.Client, application: str, configuration: str) -> httpx.Response:
    """The GET of the configuration `configuration` of the application `application`."""
    found = find_application(http, application)
    if found is None:
        raise FatalError(f"no application named {application!r}", 404)
    for id in found["configuration_ids"]:
        response = get(http, f"/configurations/{id}")
        if response.json()["name"] == configuration:
            return response
    raise FatalError(f"no configuration {configuration!r} in the application {application!r}", 404)

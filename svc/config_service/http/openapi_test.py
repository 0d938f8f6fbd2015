"""A walk over the whole OpenAPI document: what a client generator and a reader rely on."""

import json

import pytest

from config_service.applications import models as application_models
from config_service.configurations import models as configuration_models
from config_service.http.openapi_parts import Problem
from config_service.main import VERSION, create_app
from conftest import make_settings
from test.random_refs import random_name

WRITES = {"401", "403", "400", "413", "415", "422", "503"}
READS = {"401", "422", "503"}
OPERATIONS = {
    "createApplication": ("post", "/api/v1/applications", {"201", "409"} | WRITES),
    "updateApplication": (
        "put",
        "/api/v1/applications/{id}",
        {"200", "404", "409", "412"} | WRITES,
    ),
    "getApplication": ("get", "/api/v1/applications/{id}", {"200", "304", "404"} | READS),
    "listApplications": ("get", "/api/v1/applications", {"200"} | READS),
    "createConfiguration": ("post", "/api/v1/configurations", {"201", "409"} | WRITES),
    "updateConfiguration": (
        "put",
        "/api/v1/configurations/{id}",
        {"200", "404", "409", "412"} | WRITES,
    ),
    "getConfiguration": (
        "get",
        "/api/v1/configurations/{id}",
        {"200", "304", "404", "410"} | READS,
    ),
}

MODELS = {
    name: model
    for module in (application_models, configuration_models)
    for name, model in vars(module).items()
    if name.startswith(("Application", "Configuration")) and not name.endswith("Base")
}


@pytest.fixture(scope="module")
def document(database_url):
    """The document of a service with tokens, which documents authentication."""
    settings = make_settings(database_url, api_read_tokens="reader", api_write_tokens="writer")
    return create_app(settings).openapi()


@pytest.fixture(scope="module")
def open_document(client):
    """The document of a service without tokens (the `client` app's), as served."""
    return client.get("/openapi.json").json()


def test_without_tokens_nothing_says_a_token_is_needed(open_document):
    assert "securitySchemes" not in open_document["components"]
    for path, operations in open_document["paths"].items():
        for operation in operations.values():
            assert "security" not in operation, path
            assert not {"401", "403"} & set(operation["responses"]), path


def test_config_and_ids_are_one_component_each_and_headers_plain_strings(open_document):
    schemas = open_document["components"]["schemas"]
    for name in ("ConfigurationCreate", "ConfigurationUpdate", "ConfigurationRead"):
        assert schemas[name]["properties"]["config"] == {"$ref": "#/components/schemas/Config"}
    assert schemas["Config"]["type"] == "object"
    update_ids = schemas["ApplicationUpdate"]["properties"]["configuration_ids"]["anyOf"][0]
    assert update_ids["items"] == {"$ref": "#/components/schemas/Ulid"}
    assert schemas["ConfigurationCreate"]["properties"]["application_id"]["$ref"].endswith("Ulid")
    assert "^[0-7]" not in str({k: v for k, v in schemas.items() if k != "Ulid"})
    for path, operations in open_document["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header":
                    assert parameter["schema"] == {"type": "string"}, (path, parameter)
                    assert parameter["description"], (path, parameter)
    name, comments = (schemas["ApplicationCreate"]["properties"][f] for f in ("name", "comments"))
    assert "pattern" in name and "pattern" in comments


def api_operations(document) -> dict[str, tuple[str, str, dict]]:
    return {
        operation["operationId"]: (method, path, operation)
        for path, operations in document["paths"].items()
        if path.startswith("/api/")
        for method, operation in operations.items()
    }


def all_responses(document):
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                yield operation["operationId"], status, response


def test_the_document_lists_the_seven_operations_with_their_status_codes(document):
    operations = api_operations(document)
    assert set(operations) == set(OPERATIONS)
    for operation_id, (method, path, statuses) in OPERATIONS.items():
        found_method, found_path, operation = operations[operation_id]
        assert (found_method, found_path) == (method, path)
        assert set(operation["responses"]) == statuses, operation_id


def test_every_operation_is_summarised_described_tagged_and_secured(document):
    for _, _, operation in api_operations(document).values():
        assert operation["summary"] and operation["description"]
        assert operation["tags"] in (["applications"], ["configurations"])
        assert operation["security"] == [{"bearerAuth": []}]


def test_every_response_documents_its_headers(document):
    expected_by_status = {"401": {"WWW-Authenticate"}, "503": {"Retry-After"}}
    for operation_id, status, response in all_responses(document):
        headers = set(response.get("headers", {}))
        assert "X-Request-ID" in headers, (operation_id, status)
        assert expected_by_status.get(status, set()) <= headers, (operation_id, status)
        if operation_id in OPERATIONS and status in ("200", "201", "304"):
            assert "Cache-Control" in headers, (operation_id, status)
            if operation_id != "listApplications":
                assert {"ETag"} <= headers, (operation_id, status)
        if status == "201":
            assert "Location" in headers
    list_page = api_operations(document)["listApplications"][2]["responses"]["200"]
    assert "Link" in list_page["headers"]
    for operation_id in ("getApplication", "getConfiguration"):
        read = api_operations(document)[operation_id][2]["responses"]
        for status in ("200", "304"):
            assert {"Preference-Applied", "Vary", "Age"} <= set(read[status]["headers"])


def test_successes_say_what_they_return_and_each_problem_has_its_own_example(document):
    for operation_id, status, response in all_responses(document):
        assert response["description"] != "Successful Response", (operation_id, status)
        if status >= "400":
            content = response["content"]["application/problem+json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Problem"}
            assert content["example"]["status"] == int(status), (operation_id, status)
            Problem.model_validate(content["example"])


def test_conditional_and_watch_headers_are_declared_parameters(document):
    operations = api_operations(document)
    for operation_id in ("getApplication", "getConfiguration"):
        names = {p["name"] for p in operations[operation_id][2]["parameters"]}
        assert {"If-None-Match", "Prefer", "Cache-Control"} <= names
    configuration_parameters = operations["getConfiguration"][2]["parameters"]
    assert {"revision", "history", "limit", "before"} <= {
        p["name"] for p in configuration_parameters if p["in"] == "query"
    }
    for operation_id in ("updateApplication", "updateConfiguration"):
        names = {p["name"] for p in operations[operation_id][2]["parameters"]}
        assert "If-Match" in names
    list_names = {p["name"] for p in operations["listApplications"][2]["parameters"]}
    assert list_names == {"limit", "after", "name"}


def test_examples_validate_and_use_distinct_ids_per_resource(document):
    schemas = document["components"]["schemas"]
    for name, model in MODELS.items():
        for example in schemas[name].get("examples", []):
            model.model_validate(example)
    application = schemas["ApplicationRead"]["examples"][0]
    configuration = schemas["ConfigurationRead"]["examples"][0]
    assert configuration["application_id"] == application["id"] != configuration["id"]
    operations = api_operations(document)
    path_examples = {
        operation_id: next(
            p["examples"] for p in operations[operation_id][2]["parameters"] if p["name"] == "id"
        )
        for operation_id in ("getApplication", "getConfiguration")
    }
    assert [*path_examples["getApplication"].values()][0]["value"] == application["id"]
    assert [*path_examples["getConfiguration"].values()][0]["value"] == configuration["id"]


def test_fields_a_client_cannot_change_are_read_only(document):
    schemas = document["components"]["schemas"]
    assert schemas["ApplicationRead"]["properties"]["configuration_ids"]["readOnly"] is True
    assert schemas["ApplicationRead"]["properties"]["id"]["readOnly"] is True
    assert schemas["ConfigurationRead"]["properties"]["id"]["readOnly"] is True
    update = schemas["ApplicationUpdate"]["properties"]
    assert update["configuration_ids"]["readOnly"] is True


def test_health_responses_have_a_schema_and_the_version_is_the_projects(document):
    for path in ("/health/live", "/health/ready"):
        ok = document["paths"][path]["get"]["responses"]["200"]
        assert "$ref" in ok["content"]["application/json"]["schema"]
    assert document["info"]["version"] == VERSION


def test_ids_are_documented_as_26_character_strings(document):
    schemas = document["components"]["schemas"]
    assert schemas["ApplicationRead"]["properties"]["id"]["$ref"] == "#/components/schemas/Ulid"
    id_schema = schemas["Ulid"]
    assert (id_schema["type"], id_schema["minLength"], id_schema["maxLength"]) == ("string", 26, 26)


def test_the_document_is_built_once(client):
    app = client.app
    assert app.openapi() is app.openapi()


def test_a_generated_client_can_make_each_read_of_a_configuration_as_generated(document):
    """No default a generator would send on every call (the plain GET refuses `limit`); the
    200 is a configuration or a page of history, each a component; the 304 is declared."""
    assert '"default"' not in json.dumps(document)
    operation = api_operations(document)["getConfiguration"][2]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"revision", "history", "limit", "before"} <= set(parameters)
    assert all(not p["required"] for name, p in parameters.items() if name != "id")
    assert "100 when not sent" in parameters["limit"]["description"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["anyOf"] == [
        {"$ref": "#/components/schemas/ConfigurationRead"},
        {"$ref": "#/components/schemas/ConfigurationHistory"},
    ]
    schemas = document["components"]["schemas"]
    assert schemas["ConfigurationHistory"]["type"] == "array"
    entry = schemas["ConfigurationHistory"]["items"]
    assert entry == {"$ref": "#/components/schemas/ConfigurationHistoryEntry"}
    assert "content" not in operation["responses"]["304"]
    assert "Content-Encoding" not in operation["responses"]["304"]["headers"]
    assert {"ETag", "Revision", "Link", "Vary", "Content-Encoding"} <= set(
        operation["responses"]["200"]["headers"]
    )


def test_problem_errors_are_optional_and_never_null_and_the_rest_always_there(document):
    problem = document["components"]["schemas"]["Problem"]
    assert problem["properties"]["errors"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/ProblemDetail"},
        "title": "Errors",
        "description": "Only on 422: each thing that is wrong.",
    }
    assert set(problem["required"]) == {
        "type",
        "title",
        "status",
        "detail",
        "instance",
        "request_id",
    }
    assert "null" not in json.dumps(problem["properties"])


def test_comments_are_optional_to_send_and_always_read(document):
    schemas = document["components"]["schemas"]
    for name in (
        "ApplicationCreate",
        "ApplicationUpdate",
        "ConfigurationCreate",
        "ConfigurationUpdate",
    ):
        assert "comments" not in schemas[name]["required"], name
        assert 'Default: `""`' in schemas[name]["properties"]["comments"]["description"], name
    for name in ("ApplicationRead", "ConfigurationRead"):
        assert "comments" in schemas[name]["required"], name
    # Only with ?include, and then a list: optional, never null.
    included = schemas["ApplicationRead"]["properties"]["configurations"]
    assert "configurations" not in schemas["ApplicationRead"]["required"]
    assert included["type"] == "array" and "null" not in json.dumps(included)


def test_the_history_entry_schema_names_what_the_service_sends(client, document):
    application = client.post("/api/v1/applications", json={"name": random_name()}).json()
    body = {"application_id": application["id"], "name": "c", "config": {}}
    created = client.post("/api/v1/configurations", json=body)
    [entry] = client.get(f"{created.headers['location']}?history").json()
    schema = document["components"]["schemas"]["ConfigurationHistoryEntry"]
    assert set(schema["required"]) == set(schema["properties"]) == set(entry)

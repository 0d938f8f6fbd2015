import pytest

from config_service.applications import models as application_models
from config_service.configurations import models as configuration_models
from config_service.errors import Problem

OPERATIONS = {
    "createApplication": (
        "post",
        "/api/v1/applications",
        {"201", "401", "403", "409", "413", "415", "422", "503"},
    ),
    "updateApplication": (
        "put",
        "/api/v1/applications/{id}",
        {"200", "401", "403", "404", "409", "412", "413", "415", "422", "503"},
    ),
    "getApplication": (
        "get",
        "/api/v1/applications/{id}",
        {"200", "304", "401", "404", "422", "503"},
    ),
    "listApplications": ("get", "/api/v1/applications", {"200", "401", "422", "503"}),
    "createConfiguration": (
        "post",
        "/api/v1/configurations",
        {"201", "401", "403", "409", "413", "415", "422", "503"},
    ),
    "updateConfiguration": (
        "put",
        "/api/v1/configurations/{id}",
        {"200", "401", "403", "404", "409", "412", "413", "415", "422", "503"},
    ),
    "getConfiguration": (
        "get",
        "/api/v1/configurations/{id}",
        {"200", "304", "401", "404", "422", "503"},
    ),
}

MODELS = {
    name: model
    for module in (application_models, configuration_models)
    for name, model in vars(module).items()
    if name.startswith(("Application", "Configuration"))
}


@pytest.fixture(scope="module")
def document(client):
    return client.get("/openapi.json").json()


def api_operations(document) -> dict[str, tuple[str, str, dict]]:
    return {
        operation["operationId"]: (method, path, operation)
        for path, operations in document["paths"].items()
        if path.startswith("/api/")
        for method, operation in operations.items()
    }


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


def test_errors_are_documented_as_problem_json(document):
    for _, _, operation in api_operations(document).values():
        for status, response in operation["responses"].items():
            if status >= "400":
                schema = response["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}


def test_every_example_validates_against_its_schema(document):
    schemas = document["components"]["schemas"]
    checked = 0
    for name, model in {**MODELS, "Problem": Problem}.items():
        for example in schemas[name].get("examples", []):
            model.model_validate(example)
            checked += 1
    assert checked >= 6


def test_ids_are_documented_as_26_character_strings(document):
    id_schema = document["components"]["schemas"]["ApplicationRead"]["properties"]["id"]
    assert (id_schema["type"], id_schema["minLength"], id_schema["maxLength"]) == ("string", 26, 26)


def test_the_document_is_built_once(client):
    app = client.app
    assert app.openapi() is app.openapi()

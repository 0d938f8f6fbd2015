import pytest
from pydantic import ValidationError

from config_service.applications.models import ApplicationCreate, ApplicationRead, ApplicationUpdate


@pytest.mark.parametrize("model", [ApplicationCreate, ApplicationUpdate])
def test_comments_default_to_empty_and_unknown_fields_are_refused(model):
    assert model(name="billing").comments == ""
    with pytest.raises(ValidationError, match="extra"):
        model(name="billing", colour="blue")


def test_read_model_documents_ids_as_strings():
    schema = ApplicationRead.model_json_schema()
    assert schema["properties"]["id"]["type"] == "string"
    assert schema["properties"]["configuration_ids"]["items"]["type"] == "string"

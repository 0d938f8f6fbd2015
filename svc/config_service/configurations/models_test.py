import pytest
from pydantic import ValidationError

from config_service.configurations.models import ConfigurationCreate, ConfigurationUpdate

APPLICATION_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def test_create_canonicalises_the_application_id():
    body = ConfigurationCreate(application_id=APPLICATION_ID.lower(), name="db", config={})
    assert body.application_id == APPLICATION_ID


def test_update_does_not_accept_an_application_id():
    with pytest.raises(ValidationError, match="extra"):
        ConfigurationUpdate(application_id=APPLICATION_ID, name="db", config={})


@pytest.mark.parametrize("config", [[], "x", 1, {"x": float("nan")}])
def test_config_must_be_a_storable_object(config):
    with pytest.raises(ValidationError):
        ConfigurationCreate(application_id=APPLICATION_ID, name="db", config=config)

import pytest
from pydantic import ValidationError

from config_service.configurations.models import ConfigurationCreate, ConfigurationUpdate

APPLICATION_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def test_create_canonicalises_the_application_id():
    body = ConfigurationCreate(application_id=APPLICATION_ID.lower(), name="db", config={})
    assert body.application_id == APPLICATION_ID


def test_update_takes_a_gets_body_back_but_nothing_unknown():
    body = ConfigurationUpdate(
        id=APPLICATION_ID.lower(), application_id=APPLICATION_ID, name="db", config={}
    )
    assert (body.id, body.application_id) == (APPLICATION_ID, APPLICATION_ID)
    with pytest.raises(ValidationError, match="extra"):
        ConfigurationUpdate(name="db", config={}, colour="blue")


@pytest.mark.parametrize("config", [[], "x", 1, {"x": float("nan")}])
def test_config_must_be_a_storable_object(config):
    with pytest.raises(ValidationError):
        ConfigurationCreate(application_id=APPLICATION_ID, name="db", config=config)

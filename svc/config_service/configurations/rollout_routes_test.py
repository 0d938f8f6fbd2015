"""The rollout headers as the API documents them: every route reading one declares it."""

from config_service.configurations.rollout_routes import CLIENT_PARAMETERS, ROLLOUT_PARAMETER


def test_the_openapi_declares_the_rollout_headers_where_they_are_read(client):
    paths = client.get("/openapi.json").json()["paths"]
    operation = paths["/api/v1/configurations/{id}"]
    read = {p["name"] for p in operation["get"]["parameters"] if p["in"] == "header"}
    written = {p["name"] for p in operation["put"]["parameters"] if p["in"] == "header"}
    assert {p["name"] for p in CLIENT_PARAMETERS} <= read
    assert ROLLOUT_PARAMETER["name"] in written
    created = paths["/api/v1/configurations"]["post"]["parameters"]
    assert ROLLOUT_PARAMETER["name"] not in {p["name"] for p in created}

from fastapi.testclient import TestClient

from bench.baseline import create_baseline_app


def test_baseline_returns_the_row_as_json(client, database_url):
    application = client.post("/api/v1/applications", json={"name": "baseline-app"}).json()
    configuration = client.post(
        "/api/v1/configurations",
        json={"application_id": application["id"], "name": "c", "config": {"k": [1, 2]}},
    ).json()

    with TestClient(create_baseline_app(database_url, pool_size=1)) as baseline:
        response = baseline.get(f"/configurations/{configuration['id']}")

    assert response.status_code == 200
    assert response.json() == configuration

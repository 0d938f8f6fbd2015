import psycopg2
from fastapi.testclient import TestClient

from bench.baseline import create_baseline_app, open_pool


def test_baseline_returns_the_row_as_json(client, database_url):
    application = client.post("/api/v1/applications", json={"name": "baseline-app"}).json()
    configuration = client.post(
        "/api/v1/configurations",
        json={"application_id": application["id"], "name": "c", "config": {"k": [1, 2]}},
    ).json()

    with TestClient(create_baseline_app(database_url, pool_size=1)) as baseline:
        response = baseline.get(f"/configurations/{configuration['id']}")
        missing = baseline.get("/configurations/01JDQ2ZK3M8N7V6W5X4Y3Z2A1B")

    assert response.status_code == 200
    assert response.json() == configuration
    assert missing.status_code == 404


def test_pooled_connections_are_in_autocommit_mode(database_url):
    pool = open_pool(database_url, 2)
    try:
        connections = [pool.getconn(), pool.getconn()]
        assert [connection.autocommit for connection in connections] == [True, True]
        with connections[0].cursor() as cursor:
            cursor.execute("SELECT 1")
        # No transaction was opened: nothing is left to roll back.
        status = connections[0].info.transaction_status
        assert status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    finally:
        pool.closeall()

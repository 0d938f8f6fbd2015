import uuid

import psycopg2
import pytest

from bench.data import bench_database, database_dsn, seed, seed_many
from test import postgres


def test_seed_creates_applications_with_their_configurations(client):
    seeded = seed(client, applications=2, configurations=3, config={"k": "v"})

    assert len(seeded.application_ids) == 2
    assert len(seeded.configurations) == 6
    for application_id in seeded.application_ids:
        ids = client.get(f"/api/v1/applications/{application_id}").json()["configuration_ids"]
        assert len(ids) == 3
    path, etag = next(iter(seeded.etags.items()))
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304


def test_seed_many_writes_configurations_the_api_serves(client, database_url):
    ids = seed_many(database_url, 50, name=f"many-{uuid.uuid4().hex[:6]}", config={"k": 1})

    assert len(set(ids)) == 50
    for configuration_id in (ids[0], ids[-1]):
        response = client.get(f"/api/v1/configurations/{configuration_id}")
        assert response.status_code == 200
        assert response.json()["config"] == {"k": 1}
    application_id = response.json()["application_id"]
    listed = client.get(f"/api/v1/applications/{application_id}").json()["configuration_ids"]
    assert sorted(listed) == sorted(ids)


def test_database_dsn_keeps_the_server():
    dsn = database_dsn("postgresql://u:p@db.example:5433/config_service", "other")
    assert dsn == "postgresql://u:p@db.example:5433/other"


def test_the_bench_database_is_migrated_and_dropped_even_on_failure():
    name = f"config_service_bench_test_{uuid.uuid4().hex[:8]}"
    with pytest.raises(KeyboardInterrupt):
        with bench_database(postgres.ADMIN_DSN, name) as dsn:
            connection = psycopg2.connect(dsn)
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM configurations")
                assert cursor.fetchone() == (0,)
            # An open connection does not stop the drop.
            raise KeyboardInterrupt
    assert not postgres.database_exists(name)

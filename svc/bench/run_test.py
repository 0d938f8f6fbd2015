from urllib.parse import urlsplit

from bench.run import BENCH_DATABASE, bench_dsn, seed


def test_seed_creates_applications_with_their_configurations(client):
    seeded = seed(client, applications=2, configurations=3, config={"k": "v"})

    assert len(seeded.application_ids) == 2
    assert len(seeded.configurations) == 6
    for application_id in seeded.application_ids:
        ids = client.get(f"/api/v1/applications/{application_id}").json()["configuration_ids"]
        assert len(ids) == 3
    path, etag = next(iter(seeded.etags.items()))
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304


def test_the_bench_uses_its_own_database_on_the_same_server():
    dsn = bench_dsn("postgresql://u:p@db.example:5433/config_service")
    assert urlsplit(dsn).path == f"/{BENCH_DATABASE}"
    assert urlsplit(dsn).netloc == "u:p@db.example:5433"

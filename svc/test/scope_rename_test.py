"""A rename moves an application, and its configurations, out of or into a token's scope on
every worker within a second, memory and held watches included."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from test.live_server import ServerProcess
from test.prometheus import held_requests
from test.postgres import execute
from test.random_refs import MISSING_ID
from test.resources import API
from test.tokens import FileToken, write_tokens_file
from test.waiting import until
from test.workers import TIMEOUT, one_connection_per_worker, running

TEAM = f"pay{uuid.uuid4().hex[:8]}"
ADMIN = FileToken("admin", "write", ("*",))
TEAM_READ = FileToken("team-read", "read", (f"{TEAM}-*",))
WITHIN = 1.0  # seconds, as the issue asks


def test_a_rename_moves_resources_out_of_and_into_scope_on_every_worker(database_url, tmp_path):
    path = write_tokens_file(tmp_path / "tokens.toml", ADMIN, TEAM_READ)
    server = ServerProcess(database_url, WORKERS="2", API_TOKENS_FILE=str(path))
    with running(server), one_connection_per_worker(server) as workers:
        admin = next(iter(workers.values()))
        application = admin.post(
            f"{API}/applications", json={"name": f"{TEAM}-api"}, headers=ADMIN.headers
        ).json()
        configuration = admin.post(
            f"{API}/configurations",
            json={"application_id": application["id"], "name": "db", "config": {"v": 1}},
            headers=ADMIN.headers,
        ).json()
        paths = [
            f"{API}/applications/{application['id']}",
            f"{API}/configurations/{configuration['id']}",
            f"{API}/applications/{application['id']}?include=configurations",
        ]

        def statuses(expected: int) -> bool:
            return all(
                worker.get(each, headers=TEAM_READ.headers).status_code == expected
                for worker in workers.values()
                for each in paths
            )

        assert statuses(200) and statuses(200)  # the second from memory, on each worker
        # Watches held (each on a connection of its own) when the rename lands, of the
        # configuration and of the application with it: they end with the 404 of a missing id.
        watched = {paths[1]: configuration["id"], paths[2]: application["id"]}
        etags = {path: admin.get(path, headers=ADMIN.headers).headers["etag"] for path in watched}
        with ThreadPoolExecutor(len(watched)) as pool:

            def watch(path: str) -> httpx.Response:
                headers = {**TEAM_READ.headers, "If-None-Match": etags[path], "Prefer": "wait=4"}
                with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
                    return http.get(path, headers=headers)

            watches = {path: pool.submit(watch, path) for path in watched}
            until(
                lambda: (
                    held_requests(admin.get("/metrics", headers=ADMIN.headers).content)
                    == len(watched)
                ),
                TIMEOUT,
                "the watches held",
            )
            execute(
                database_url,
                "UPDATE applications SET name = %s WHERE id = %s",
                (f"x{TEAM}-api", application["id"]),
            )
            renamed = time.monotonic()
            until(lambda: statuses(404), WITHIN, "out of scope on every worker")
            for path, resource_id in watched.items():
                answer = watches[path].result(timeout=TIMEOUT)
                missing = admin.get(
                    path.replace(resource_id, MISSING_ID), headers=TEAM_READ.headers
                )
                assert answer.status_code == missing.status_code == 404
                assert answer.json()["detail"] == missing.json()["detail"].replace(
                    MISSING_ID, resource_id
                )
            assert time.monotonic() - renamed < 2, "the watches were not ended by the rename"
        response = admin.put(paths[0], json={"name": f"{TEAM}-api"}, headers=ADMIN.headers)
        assert response.status_code == 200
        until(lambda: statuses(200), WITHIN, "back in scope on every worker")

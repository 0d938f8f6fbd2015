"""A real caching proxy in front of the service (nginx, test/nginx.py), as an operator would put
one: what it may keep, it keeps; what depends on a token, it never keeps; a current read is
never stale after an acknowledged PUT; a URL's answers vary on the same headers, so gzip and
identity clients each get their own.

Each test ends by checking its figures: answers seen through the proxy, how many were HITs,
and how many responses the proxy holds.
"""

from collections import Counter

import httpx
import pytest

from config_service.main import create_app
from config_service.settings import SVC_DIR
from conftest import make_settings
from test.live_server import LiveServer
from test.nginx import RECIPE, Nginx
from test.random_refs import random_name
from test.tokens import FileToken, write_tokens_file

TEAM = "proxied"
READER = FileToken("proxied-reader", "read", ("*",))
WRITER = FileToken("proxied-writer", "write", ("*",))
OUTSIDER = FileToken("outsider", "read", ("someone-else-*",))  # sees none of TEAM's
GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}
LARGE = {f"key-{n:05d}": {"host": f"h-{n}.internal", "port": 8000 + n % 50} for n in range(3000)}


def upstream_port(server: LiveServer) -> int:
    return int(server.url.rpartition(":")[2])


def create(http: httpx.Client, config: dict, headers: dict | None = None) -> str:
    """A configuration with two revisions; its path."""
    name = random_name(TEAM)
    application = http.post("/api/v1/applications", json={"name": name}, headers=headers)
    assert application.status_code == 201, application.text
    body = {"application_id": application.json()["id"], "name": "main", "config": config}
    created = http.post("/api/v1/configurations", json=body, headers=headers)
    assert created.status_code == 201, created.text
    path = created.headers["location"].partition("127.0.0.1")[2].partition("/")[2]
    edited = http.put(f"/{path}", json={**body, "comments": "second"}, headers=headers)
    assert edited.status_code == 200, edited.text
    return f"/{path}"


@pytest.fixture(scope="module")
def guarded(database_url, tmp_path_factory):
    """The service with tokens, behind nginx."""
    tokens = tmp_path_factory.mktemp("tokens") / "tokens.toml"
    write_tokens_file(tokens, READER, WRITER, OUTSIDER)
    settings = make_settings(database_url, api_tokens_file=tokens)
    with LiveServer(create_app(settings)) as server, Nginx(upstream_port(server)) as nginx:
        yield server, nginx


@pytest.fixture(scope="module")
def open_service(database_url):
    """The service without tokens, behind nginx."""
    with LiveServer(create_app(make_settings(database_url))) as server:
        with Nginx(upstream_port(server)) as nginx:
            yield server, nginx


def test_with_tokens_nothing_given_to_one_caller_is_served_to_another(guarded):
    """The leak this closes: a revision read with a valid token, then asked for through the
    proxy with a wrong token, came back 200 from nginx's cache (HIT) with the whole body."""
    server, nginx = guarded
    with httpx.Client(base_url=server.url, timeout=10) as direct:
        path = create(direct, {"secret": "for readers only"}, WRITER.headers)
    configuration_urls = [path, f"{path}?revision=1", f"{path}?history"]
    others = {
        "wrong token": ({"Authorization": "Bearer wrong"}, 401),
        "no token": ({}, 401),
        "out of scope": (OUTSIDER.headers, 404),
    }
    statuses: Counter[str] = Counter()
    with httpx.Client(base_url=nginx.url, timeout=10) as proxied:
        for url in [*configuration_urls, "/api/v1/applications?limit=1000"]:
            for _ in range(2):  # the second time, a cache would answer if it had kept it
                answer = proxied.get(url, headers=READER.headers)
                assert answer.status_code == 200, (url, answer.text)
                assert answer.headers["cache-control"].startswith("private"), url
                statuses[answer.headers["x-cache-status"]] += 1
            for name, (headers, status) in others.items():
                answer = proxied.get(url, headers=headers)
                if url in configuration_urls or status == 401:
                    assert answer.status_code == status, (url, name)
                else:
                    assert answer.status_code == 200 and TEAM not in answer.text  # its own list
                assert b"for readers only" not in answer.content, (url, name)
                statuses[answer.headers["x-cache-status"]] += 1
    assert sum(statuses.values()) == 4 * 5 and statuses["HIT"] == 0, statuses
    assert nginx.cached_responses() == 0


def test_without_tokens_revisions_are_served_from_the_proxy_and_current_reads_never_stale(
    open_service,
):
    server, nginx = open_service
    with httpx.Client(base_url=nginx.url, timeout=10) as proxied:
        path = create(proxied, {"version": 0})
        first = proxied.get(f"{path}?revision=1")
        again = proxied.get(f"{path}?revision=1")
        assert first.headers["cache-control"] == "max-age=86400, immutable"
        assert (first.headers["x-cache-status"], again.headers["x-cache-status"]) == ("MISS", "HIT")
        assert again.content == first.content and again.headers["etag"] == first.headers["etag"]

        current = proxied.get(path).json()
        statuses: Counter[str] = Counter()
        for version in range(1, 21):  # each PUT acknowledged, then read at once through nginx
            put = proxied.put(path, json={**current, "config": {"version": version}})
            assert put.status_code == 200, put.text
            current = proxied.get(path)
            assert current.json()["config"] == {"version": version}
            assert current.headers["etag"] == put.headers["etag"]
            statuses[current.headers["x-cache-status"]] += 1
            current = current.json()
    assert statuses["HIT"] == 0 and sum(statuses.values()) == 20, statuses
    assert nginx.cached_responses() == 1  # the revision, and nothing current


def test_gzip_and_identity_clients_each_get_their_own_from_the_proxy(open_service):
    server, nginx = open_service
    with httpx.Client(base_url=nginx.url, timeout=10) as proxied:
        path = create(proxied, LARGE)
        url = f"{path}?revision=2"
        packed = proxied.get(url, headers=GZIP)
        plain = proxied.get(url, headers=IDENTITY)
        packed_again = proxied.get(url, headers=GZIP)
        plain_again = proxied.get(url, headers=IDENTITY)
    assert packed.headers["content-encoding"] == packed_again.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers and "content-encoding" not in plain_again.headers
    assert plain.json()["config"] == packed.json()["config"] == LARGE
    assert packed.headers["etag"] == plain.headers["etag"]
    assert packed.headers["vary"] == plain.headers["vary"] == "Accept-Encoding, Prefer, Config-Client"
    assert packed_again.headers["x-cache-status"] == plain_again.headers["x-cache-status"] == "HIT"
    assert int(packed.headers["content-length"]) * 5 < int(plain.headers["content-length"])


@pytest.mark.parametrize("recipe", [False, True])
def test_a_watch_through_the_proxy_is_held_only_with_the_recipe(database_url, recipe):
    """Caching nginx drops If-None-Match on its way upstream (it wants a whole response to
    keep), so a watch is answered 200 at once, again and again; the operations doc's recipe
    passes it through, and the watch is held."""
    settings = make_settings(database_url, max_wait_seconds=1)
    with LiveServer(create_app(settings)) as server:
        with Nginx(upstream_port(server), pass_if_none_match=recipe) as nginx:
            with httpx.Client(base_url=nginx.url, timeout=10) as proxied:
                path = create(proxied, {"watched": True})
                etag = proxied.get(path).headers["etag"]
                watched = proxied.get(path, headers={"If-None-Match": etag, "Prefer": "wait=1"})
    if recipe:
        assert (watched.status_code, watched.headers["preference-applied"]) == (304, "wait=1")
    else:
        assert watched.status_code == 200 and "preference-applied" not in watched.headers


def test_the_operations_doc_gives_the_recipe_these_tests_run():
    operations = (SVC_DIR / "docs" / "operations.md").read_text()
    proxies = operations[operations.index("## Proxies and CDNs") :]
    assert RECIPE in proxies[: proxies.index("\n## ")]
    behind = operations[operations.index("## Behind a reverse proxy") :]
    assert RECIPE in behind[: behind.index("\n## ")]

"""ConfigClient.follow: what it follows, where it caches, and by names through a stand-in."""

import httpx
import pytest

from config_service_client import follower as following
from config_service_client.application import ApplicationFollower
from config_service_client.client import ConfigClient

ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
TIMEOUT = 5


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"configuration": "prod"},
        {"configuration_id": ID} | {"application": "shop", "configuration": "prod"},
    ],
)
def test_it_follows_an_id_both_names_or_an_application_nothing_else(arguments):
    with pytest.raises(ValueError, match="give configuration_id, both application and"):
        ConfigClient("http://service").follow(**arguments)


def test_an_application_alone_is_followed_whole_with_a_cache_file_of_its_own(tmp_path):
    client = ConfigClient("http://service", cache_dir=tmp_path)
    whole = client.follow(application="shop")
    one = client.follow(application="shop", configuration="prod")
    assert isinstance(whole, ApplicationFollower) and not isinstance(one, ApplicationFollower)
    assert whole.target.key == 'application:"shop"' and whole.id is None
    assert whole._cache.path.parent == tmp_path and whole._cache.path != one._cache.path


def test_the_cache_file_is_per_target_in_cache_dir(tmp_path):
    client = ConfigClient("http://service", cache_dir=tmp_path)
    by_id = client.follow(ID)
    by_name = client.follow(application="shop", configuration="prod")
    assert by_id.target.key == f"id:{ID}" and by_name.target.key == 'name:["shop", "prod"]'
    assert by_id._cache.path.parent == tmp_path and by_id._cache.path != by_name._cache.path
    assert ConfigClient("http://service").follow(ID)._cache is None


def test_following_by_names_finds_the_id_then_follows_it(monkeypatch):
    requests = []

    def service(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        application = {"id": "A", "name": "shop", "configuration_ids": [ID]}
        body = {"id": ID, "application_id": "A", "name": "prod", "comments": "", "config": {}}
        if request.url.path == "/api/v1/applications":
            return httpx.Response(200, json=[application])
        if request.url.path == "/api/v1/applications/A":  # read whole
            return httpx.Response(200, json=application | {"configurations": [body]})
        if len(requests) > 4:
            return httpx.Response(403, json={"detail": "stop here"})
        return httpx.Response(200, json=body | {"config": {"a": 1}}, headers={"ETag": '"e"'})

    def connect(base_url, token, timeout):
        transport = httpx.MockTransport(service)
        return httpx.Client(base_url=base_url + "/api/v1", transport=transport, timeout=TIMEOUT)

    monkeypatch.setattr(following, "connect", connect)
    follower = ConfigClient("http://service", wait=7).follow(
        application="shop", configuration="prod"
    )
    assert follower.id is None
    follower.start()
    assert follower.wait(TIMEOUT) == {"a": 1}
    follower.join(TIMEOUT)
    assert follower.id == ID and follower.error is not None and follower.error.status == 403
    assert [r.url.path for r in requests] == [
        "/api/v1/applications",
        "/api/v1/applications/A",
        f"/api/v1/configurations/{ID}",
        f"/api/v1/configurations/{ID}",
        f"/api/v1/configurations/{ID}",
    ]
    assert requests[-1].headers["Prefer"] == "wait=7"


def test_the_client_id_is_kept_beside_the_cache_and_given_to_followers(tmp_path):
    first = ConfigClient("http://service", cache_dir=tmp_path)
    restarted = ConfigClient("http://service", cache_dir=tmp_path)
    assert first.client_id == restarted.client_id
    assert restarted.follow(ID).client_id == first.client_id
    assert ConfigClient("http://service", client_id="web-3").follow(ID).client_id == "web-3"

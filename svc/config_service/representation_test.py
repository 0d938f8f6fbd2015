import pytest
from starlette.requests import Request

from config_service.errors import PreconditionFailed
from config_service.representation import Representation, etag_of, read_response


def request_with(headers: dict[str, str]) -> Request:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw})


def test_etags_are_strong_and_follow_the_bytes():
    assert etag_of(b'{"a":1}') == etag_of(b'{"a":1}')
    assert etag_of(b'{"a":1}') != etag_of(b'{"a":2}')
    assert etag_of(b"x").startswith('"') and not etag_of(b"x").startswith("W/")


def test_from_row_encodes_the_body_once():
    representation = Representation.from_row({"id": "ID", "body": '{"name":"ü"}'})
    assert representation.body == '{"name":"ü"}'.encode()
    assert representation.etag == etag_of(representation.body)


def test_response_carries_etag_and_no_cache():
    response = Representation("ID", b"{}").response(201, {"Location": "/x"})
    assert response.status_code == 201
    assert response.headers["etag"] == etag_of(b"{}")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["location"] == "/x"
    assert response.headers["content-type"] == "application/json"


def test_read_response_is_304_without_body_when_if_none_match_names_it():
    representation = Representation("ID", b"{}")
    for header in (
        representation.etag,
        f'"a", {representation.etag}',
        f"W/{representation.etag}",
        "*",
    ):
        response = read_response(request_with({"If-None-Match": header}), representation)
        assert (response.status_code, response.body) == (304, b"")
        assert response.headers["etag"] == representation.etag
    assert (
        read_response(request_with({"If-None-Match": '"other"'}), representation).status_code == 200
    )
    assert read_response(request_with({}), representation).body == b"{}"


def test_if_match_is_compared_strongly():
    representation = Representation("ID", b"{}")
    representation.check_if_match(None)
    representation.check_if_match("*")
    representation.check_if_match(f'"x", {representation.etag}')
    for stale in ('"x"', f"W/{representation.etag}"):
        with pytest.raises(PreconditionFailed):
            representation.check_if_match(stale)

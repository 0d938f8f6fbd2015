import time

from ulid import ULID

from config_service.http.request_ids import assign_request_id, incoming_request_id, new_request_id


def test_generated_request_ids_are_valid_time_ordered_ulids():
    first, second = new_request_id(), new_request_id()
    assert str(ULID.from_str(first)) == first
    assert abs(ULID.from_str(first).timestamp - time.time()) < 5
    assert first[:10] <= second[:10] and first != second


def test_a_callers_id_is_kept_only_when_safe_to_echo():
    scope: dict = {}
    assert assign_request_id(scope, "abc-123") == "abc-123" == scope["state"]["request_id"]
    assert assign_request_id({}, "bad id\n") != "bad id\n"
    assert assign_request_id({}, "x" * 129) != "x" * 129


def test_the_incoming_id_is_the_first_x_request_id_of_the_raw_headers():
    def scope(*headers: tuple[bytes, bytes]) -> dict:
        return {"headers": [(b"host", b"x"), *headers]}

    assert incoming_request_id(scope()) is None
    assert incoming_request_id(scope((b"x-request-id", b"a"), (b"x-request-id", b"b"))) == "a"
    assert incoming_request_id(scope((b"x-request-idx", b"c"))) is None
    assert incoming_request_id(scope((b"x-request-id", "é".encode("latin-1")))) == "é"

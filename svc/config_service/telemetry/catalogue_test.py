import itertools

from config_service.telemetry.catalogue import (
    HTTP_METHODS,
    UNMATCHED_ROUTE,
    http_labels,
    http_series,
    served_methods,
)

ROUTES = {"/things": {"GET", "POST"}, "/things/{id}": {"GET", "PUT"}, "/health": {"GET"}}


def test_served_methods_add_head_to_get_and_drop_unknown_methods():
    assert served_methods({"GET"}) == {"GET", "HEAD"}
    assert served_methods({"POST", "PATCH"}) == {"POST"}
    assert served_methods(set()) == frozenset()


def test_no_series_is_informational_and_a_get_only_route_has_no_post():
    series = http_series(ROUTES)
    assert len(series) == len(set(series))
    assert not [s for s in series if s[2] == "1xx"]
    health = {(method, status) for route, method, status in series if route == "/health"}
    assert {method for method, _ in health} == {"GET", "HEAD", "other"}
    assert ("GET", "3xx") in health and ("other", "3xx") not in health
    assert ("POST", "3xx") not in {(m, s) for r, m, s in series if r == "/things"}  # writes: no 304


def test_unmatched_paths_are_only_refused():
    unmatched = [
        (method, status)
        for route, method, status in http_series(ROUTES)
        if route == UNMATCHED_ROUTE
    ]
    assert {status for _, status in unmatched} == {"4xx", "5xx"}
    assert {method for method, _ in unmatched} == set(HTTP_METHODS)


def test_http_labels_map_methods_and_statuses():
    assert http_labels("/health", {"GET"}, "HEAD", 200) == ("/health", "HEAD", "2xx")
    assert http_labels("/health", {"GET"}, "POST", 405) == ("/health", "other", "4xx")
    assert http_labels(None, (), "PATCH", 404) == (UNMATCHED_ROUTE, "other", "4xx")
    assert http_labels(None, (), "GET", 404) == (UNMATCHED_ROUTE, "GET", "4xx")


def test_every_label_combination_http_labels_can_return_is_a_series():
    series = set(http_series(ROUTES))
    methods = [*HTTP_METHODS, "PATCH", "DELETE", "OPTIONS"]
    for (route, served), method in itertools.product(ROUTES.items(), methods):
        own = method in served_methods(served)
        # What the app answers: a method it serves gets anything but 1xx (writes no 304);
        # any other method is refused.
        if not own:
            statuses = (405, 500)
        elif method in ("GET", "HEAD"):
            statuses = (200, 304, 404, 503)
        else:
            statuses = (201, 409, 503)
        for status in statuses:
            assert http_labels(route, served, method, status) in series, (route, method, status)
    for method, status in itertools.product(methods, (404, 503)):
        assert http_labels(None, (), method, status) in series

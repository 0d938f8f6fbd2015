"""Errors say what the service said, on one line."""

import httpx

from config_service_client.service import FatalError, error_for, problem_detail

REQUEST = httpx.Request("GET", "http://s/api/v1/x")


def test_the_problem_detail_on_one_line_or_what_there_is():
    problem = httpx.Response(404, json={"title": "Not Found", "detail": "no\nsuch  thing"})
    assert problem_detail(problem) == "no such thing"
    assert problem_detail(httpx.Response(502, text="<html>bad gateway</html>")) == (
        "<html>bad gateway</html>"
    )
    assert problem_detail(httpx.Response(500, text="")) == "Internal Server Error"


def test_which_answers_are_fatal():
    fatal = error_for(httpx.Response(403, json={"detail": "read only"}, request=REQUEST))
    assert isinstance(fatal, FatalError) and str(fatal) == "GET /api/v1/x: 403 read only"
    busy = error_for(httpx.Response(503, headers={"Retry-After": "2"}, request=REQUEST))
    assert not isinstance(busy, FatalError) and busy.retry_after == 2.0

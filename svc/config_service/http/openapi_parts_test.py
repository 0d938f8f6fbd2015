from config_service.http.openapi_parts import (
    PROBLEMS,
    READ_HEADERS,
    READ_PARAMETERS,
    Problem,
    header_parameter,
    problem_example,
    problem_responses,
    read_responses,
    title_of,
)
from config_service.http.problems import PROBLEM_JSON


def test_problem_responses_are_sorted_deduplicated_and_point_at_the_problem_schema():
    responses = problem_responses(503, 404, 404, 401)
    assert list(responses) == [401, 404, 503]
    content = responses[404]["content"][PROBLEM_JSON]
    assert content["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert responses[404]["description"] == PROBLEMS[404][0]
    assert content["example"]["status"] == 404


def test_every_problem_example_is_a_valid_problem_with_its_status_and_detail():
    for status, (_, detail) in PROBLEMS.items():
        example = Problem.model_validate(problem_example(status))
        assert example.status == status
        assert example.detail == detail
        assert example.title == title_of(status)
        assert (example.errors is not None) == (status == 422), status


def test_a_status_without_a_handler_title_is_named_by_http():
    assert title_of(418) == "I'm a Teapot"


def test_read_responses_add_the_resources_own_headers_to_both_answers():
    extra = {"X-Revision": {"description": "The revision.", "schema": {"type": "string"}}}
    responses = read_responses("thing", extra)
    assert set(responses) == {200, 304}
    assert responses[200]["description"] == "The thing."
    assert responses[200]["headers"] == {**READ_HEADERS, **extra}
    without_body = {**READ_HEADERS, **extra}
    del without_body["Content-Encoding"]  # a 304 has no body to encode
    assert responses[304]["headers"] == without_body
    assert read_responses("thing")[200]["headers"] == READ_HEADERS
    assert "model" not in responses[200]
    assert read_responses("thing", model=int)[200]["model"] is int  # a union, say


def test_read_parameters_are_optional_string_headers():
    assert header_parameter("X-A", "why")["in"] == "header"
    names = [parameter["name"] for parameter in READ_PARAMETERS["parameters"]]
    assert names == ["If-None-Match", "Cache-Control", "Prefer"]
    for parameter in READ_PARAMETERS["parameters"]:
        assert parameter["required"] is False
        assert parameter["schema"] == {"type": "string"}

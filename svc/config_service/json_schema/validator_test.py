import time

import pytest

from config_service.json_schema.patterns import MAX_PATTERN_SUBJECT_LENGTH
from config_service.json_schema.validator import (
    MAX_DOCUMENT_DEPTH,
    MAX_STEPS,
    UnsupportedSchema,
    Validator,
    Violation,
    compile_schema,
)
from config_service.json_schema.walk import (
    MAX_ENUM_VALUES,
    MAX_IN_PLACE_CHAIN,
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_NODES,
)
from test.json_schema_cases import REFUSED_GROUPS, suite_groups

MATCHING = "matching the schema in contains"
NO_SUCH_PROPERTY = "is not allowed: the schema names no such property"
LOWER_CASE = 'must match the pattern "^[a-z]+$"'
BOTH_FAIL = "0: must be of type string; 1: must be >= 0"


def suite_cases():
    for (file, description), group in suite_groups().items():
        for case in group["tests"]:
            key = f"{file}: {description}: {case['description']}"
            yield pytest.param((file, description), group["schema"], case, id=key)


def violations(schema, document, **options) -> list[Violation]:
    return compile_schema(schema).validate(document, **options)


def problems(schema) -> list[Violation]:
    with pytest.raises(UnsupportedSchema) as caught:
        compile_schema(schema)
    return caught.value.problems


@pytest.mark.parametrize(("group", "schema", "case"), list(suite_cases()))
def test_the_official_suite(group, schema, case):
    if group in REFUSED_GROUPS:
        with pytest.raises(UnsupportedSchema):
            compile_schema(schema)
    else:
        assert (compile_schema(schema).validate(case["data"]) == []) is case["valid"]


def test_every_group_refused_is_in_the_suite_and_refused_for_its_reason():
    groups = suite_groups()
    for group, reason in REFUSED_GROUPS.items():
        assert group in groups, group
        messages = [problem.message for problem in problems(groups[group]["schema"])]
        assert any(reason in message for message in messages), (group, messages)


@pytest.mark.parametrize(
    ("schema", "document", "found"),
    [
        ({"minimum": 1}, 0, [((), "minimum", "must be >= 1")]),
        ({"exclusiveMaximum": 10}, 10, [((), "exclusiveMaximum", "must be < 10")]),
        ({"multipleOf": 0.01}, 0.015, [((), "multipleOf", "must be a multiple of 0.01")]),
        ({"required": ["pool_size"]}, {}, [((), "required", '"pool_size" is required')]),
        ({"type": "integer"}, "8", [((), "type", "must be of type integer")]),
        ({"type": ["string", "null"]}, 1, [((), "type", "must be of type string or null")]),
        ({"maxLength": 3}, "abcd", [((), "maxLength", "must be at most 3 characters long")]),
        ({"minLength": 1}, "", [((), "minLength", "must be at least 1 character long")]),
        ({"enum": ["a", 1]}, 2, [((), "enum", 'must be one of: "a", 1')]),
        ({"const": {"a": 1}}, {}, [((), "const", 'must be {"a": 1}')]),
        ({"pattern": "^[a-z]+$"}, "A", [((), "pattern", 'must match the pattern "^[a-z]+$"')]),
        ({"minItems": 2}, [1], [((), "minItems", "must have at least 2 items")]),
        (
            {"maxProperties": 1},
            {"a": 1, "b": 2},
            [((), "maxProperties", "must have at most 1 property")],
        ),
        ({"uniqueItems": True}, [1, 2, 1.0], [((2,), "uniqueItems", "is a duplicate of item 0")]),
        (
            {"contains": {"type": "string"}},
            [1],
            [((), "contains", f"must contain at least 1 item {MATCHING} (found 0)")],
        ),
        (
            {"contains": {"type": "string"}, "maxContains": 1},
            ["a", "b"],
            [((), "maxContains", f"must contain at most 1 item {MATCHING}")],
        ),
        (
            {"dependentRequired": {"tls": ["certificate"]}},
            {"tls": True},
            [((), "dependentRequired", '"certificate" is required when "tls" is present')],
        ),
        (
            {"properties": {"size": {"type": "integer"}}, "additionalProperties": False},
            {"size": 1, "sise": 2},
            [(("sise",), "additionalProperties", NO_SUCH_PROPERTY)],
        ),
        (
            {"propertyNames": {"pattern": "^[a-z]+$"}},
            {"Pool": 1},
            [(("Pool",), "propertyNames", f"is not an allowed name: {LOWER_CASE}")],
        ),
        (
            {"anyOf": [{"type": "string"}, {"minimum": 0}]},
            -1,
            [((), "anyOf", f"must match a schema in anyOf: {BOTH_FAIL}")],
        ),
        (
            {"oneOf": [{"type": "integer"}, {"minimum": 0}]},
            1,
            [((), "oneOf", "must match exactly one schema in oneOf, matches both 0 and 1")],
        ),
        ({"not": {"type": "null"}}, None, [((), "not", "must not match the schema in not")]),
        (
            {"if": {"properties": {"kind": {"const": "tcp"}}}, "then": {"required": ["port"]}},
            {"kind": "tcp"},
            [((), "required", '"port" is required')],
        ),
        (False, 1, [((), "false", "is not allowed here: the schema is false")]),
        (
            {"prefixItems": [True], "items": False},
            [1, 2],
            [((1,), "items", "is not allowed: the array has too many items")],
        ),
        (
            {"properties": {"pools": {"items": {"properties": {"size": {"minimum": 1}}}}}},
            {"pools": [{"size": 1}, {"size": 0}]},
            [(("pools", 1, "size"), "minimum", "must be >= 1")],
        ),
    ],
)
def test_each_violation_says_where_which_keyword_and_what_to_do(schema, document, found):
    assert violations(schema, document) == [Violation(*each) for each in found]


def test_violations_come_in_document_order_then_by_keyword():
    schema = {
        "properties": {
            "a": {"type": "integer", "maximum": 1, "multipleOf": 2},
            "z": {"items": {"minimum": 5}},
        },
        "required": ["missing"],
    }
    document = {"z": [9, 1, 2], "a": 3}  # members as written, not as the schema names them
    assert [(each.path, each.keyword) for each in violations(schema, document)] == [
        ((), "required"),
        (("z", 1), "minimum"),
        (("z", 2), "minimum"),
        (("a",), "maximum"),
        (("a",), "multipleOf"),
    ]


def test_at_most_limit_violations_the_first_in_order():
    schema = {"items": {"type": "string"}}
    found = violations(schema, list(range(100)), limit=3)
    assert [each.path for each in found] == [(0,), (1,), (2,)]
    assert len(violations(schema, list(range(100)))) == 50
    with pytest.raises(ValueError, match="limit"):
        violations(schema, [], limit=0)


@pytest.mark.parametrize(
    ("schema", "document", "valid"),
    [
        ({"type": "integer"}, 1.0, True),  # 1.0 is an integer
        ({"type": "integer"}, True, False),  # true is no number
        ({"type": "number"}, False, False),
        ({"minimum": 0}, True, True),  # bounds apply to numbers only
        ({"enum": [1]}, 1.0, True),
        ({"enum": [1]}, True, False),
        ({"const": [1, {"a": 0.5}]}, [1.0, {"a": 0.5}], True),
        ({"const": {"a": 1, "b": 2}}, {"b": 2, "a": 1}, True),
        ({"const": {"a": 1}}, {"a": True}, False),
        ({"uniqueItems": True}, [1, True], True),
        ({"uniqueItems": True}, [{"a": 1, "b": [2]}, {"b": [2.0], "a": 1}], False),
        ({"multipleOf": 0.01}, 19.99, True),  # 19.99 % 0.01 is not 0 in floating point
        ({"multipleOf": 0.1}, 0.3, True),
        ({"multipleOf": 1e-8}, 12391239123, True),
        ({"multipleOf": 0.123456789}, 1e308, False),  # float division overflows to inf
        ({"multipleOf": 7}, 7 * 10**400, True),
        ({"multipleOf": 2.5}, 10**400, True),
        ({"maximum": 1e308}, 10**400, False),
        ({"maxLength": 1}, "💩", True),  # lengths count code points
        ({"minLength": 2}, "é", False),
    ],
)
def test_json_semantics_not_python_ones(schema, document, valid):
    assert (violations(schema, document) == []) is valid


def test_recursive_references_follow_the_document():
    children = {"items": {"$ref": "#/$defs/node"}}
    node = {"properties": {"value": {"type": "number"}, "children": children}}
    tree = {"$defs": {"node": node}, "$ref": "#/$defs/node"}
    document = {"value": 1, "children": [{"value": 2, "children": [{"value": "x"}]}]}
    path = ("children", 0, "children", 0, "value")
    assert violations(tree, document) == [Violation(path, "type", "must be of type number")]


@pytest.mark.parametrize(
    ("schema", "path", "keyword", "message"),
    [
        ({"minimun": 1}, ("minimun",), "minimun", 'unknown keyword "minimun"'),
        ({"unevaluatedItems": False}, ("unevaluatedItems",), "unevaluatedItems", "unknown"),
        ({"$dynamicRef": "#a"}, ("$dynamicRef",), "$dynamicRef", "unknown keyword"),
        ({"dependentSchemas": {}}, ("dependentSchemas",), "dependentSchemas", "unknown keyword"),
        ({"$anchor": "a"}, ("$anchor",), "$anchor", "unknown keyword"),
        (
            {"properties": {"a": {"minimun": 1}}},
            ("properties", "a", "minimun"),
            "minimun",
            'unknown keyword "minimun"',
        ),
        ({"allOf": [{}, {"maxItem": 1}]}, ("allOf", 1, "maxItem"), "maxItem", "unknown"),
        ({"minimum": "3"}, ("minimum",), "minimum", "minimum must be a number"),
        ({"required": [1]}, ("required",), "required", "required must be an array of unique"),
        ({"required": ["a", "a"]}, ("required",), "required", "unique strings"),
        ({"minLength": -1}, ("minLength",), "minLength", "minLength must be a non-negative"),
        ({"maxItems": 1.5}, ("maxItems",), "maxItems", "non-negative integer"),
        ({"multipleOf": 0}, ("multipleOf",), "multipleOf", "multipleOf must be greater than 0"),
        ({"type": "int"}, ("type",), "type", "type must be one of null, boolean, object"),
        ({"allOf": []}, ("allOf",), "allOf", "allOf must be a non-empty array of schemas"),
        ({"properties": {"a": 3}}, ("properties", "a"), "properties", "must be a schema"),
        (3, (), "", "must be a schema: an object, true or false"),
        ({"title": 3}, ("title",), "title", "title must be a string"),
        ({"$schema": "http://json-schema.org/draft-07/schema#"}, ("$schema",), "$schema", "2020"),
        ({"enum": list(range(MAX_ENUM_VALUES + 1))}, ("enum",), "enum", "more than 1000 values"),
        ({"$ref": "https://example.com/a.json"}, ("$ref",), "$ref", "remote $ref is not supported"),
        ({"$ref": "other.json#/a"}, ("$ref",), "$ref", "remote $ref is not supported"),
        ({"$ref": "#node"}, ("$ref",), "$ref", "$ref to an anchor is not supported"),
        ({"$ref": "#/$defs/missing"}, ("$ref",), "$ref", "points at no schema"),
        ({"enum": [{}], "$ref": "#/enum/0"}, ("$ref",), "$ref", "points at no schema"),
        ({"$id": "https://example.com/a#b"}, ("$id",), "$id", "must not have a fragment"),
        ({"pattern": "("}, ("pattern",), "pattern", "pattern is not a valid regular expression"),
        ({"pattern": "(a+)+"}, ("pattern",), "pattern", "pattern is refused"),
        (
            {"patternProperties": {"(a|a)*": {}}},
            ("patternProperties", "(a|a)*"),
            "patternProperties",
            'patternProperties "(a|a)*" is refused',
        ),
        (
            {"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
            ("$defs", "a", "$ref"),
            "$ref",
            "$ref cycle that never consumes input: #/$defs/a → #/$defs/a",
        ),
        ({"allOf": [{"not": {"$ref": "#"}}]}, ("allOf", 0, "not", "$ref"), "$ref", "$ref cycle"),
    ],
)
def test_a_schema_is_refused_with_where_and_why(schema, path, keyword, message):
    found = problems(schema)
    assert [(each.path, each.keyword) for each in found] == [(path, keyword)]
    assert message in found[0].message


def test_every_problem_of_a_schema_is_reported_at_once():
    found = problems({"minimun": 1, "properties": {"a": {"type": "int"}}, "$ref": "#/nowhere"})
    assert [each.keyword for each in found] == ["minimun", "type", "$ref"]
    assert "unknown keyword" in str(UnsupportedSchema(found))


def test_member_names_under_properties_and_defs_are_free():
    schema = {"properties": {"minimun": {}, "$ref": {"type": "string"}}, "$defs": {"if": True}}
    assert violations(schema, {"minimun": 1, "$ref": 2}) == [
        Violation(("$ref",), "type", "must be of type string")
    ]


def test_a_recursive_reference_that_consumes_input_is_no_cycle():
    schema = {"properties": {"next": {"$ref": "#"}}, "required": ["id"]}
    assert violations(schema, {"id": 1, "next": {"id": 2, "next": {}}}) == [
        Violation(("next", "next"), "required", '"id" is required')
    ]


def test_a_schema_too_large_or_too_deep_is_refused():
    wide = {"properties": {f"p{i}": {} for i in range(MAX_SCHEMA_NODES)}}
    assert [(each.keyword, each.message) for each in problems(wide)] == [
        ("$size", f"schema too large: more than {MAX_SCHEMA_NODES} JSON values")
    ]
    deep: dict = {}
    for _ in range(MAX_SCHEMA_DEPTH):
        deep = {"not": deep}
    assert problems(deep)[0].keyword == "$depth"
    compile_schema(deep["not"])  # one level less


def references_in_a_chain(count: int) -> dict:
    """A schema whose root applies `count` definitions to the same value, one through the next."""
    definitions = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(count)}
    definitions[f"d{count}"] = {"type": "string"}
    return {"$defs": definitions, "$ref": "#/$defs/d0"}


def test_a_chain_of_references_longer_than_the_bound_is_refused():
    # the root, `count` references, and the string schema at the end: count + 2 links
    compile_schema(references_in_a_chain(MAX_IN_PLACE_CHAIN - 2))
    found = problems(references_in_a_chain(MAX_IN_PLACE_CHAIN - 1))
    assert [each.keyword for each in found] == ["$depth"]


def test_a_validation_stops_at_a_value_nested_past_the_bound():
    document: list = ["not a number"]
    for _ in range(MAX_DOCUMENT_DEPTH + 10):
        document = [document]
    found = violations({"items": {"$ref": "#"}, "type": "array"}, document)
    deepest = MAX_DOCUMENT_DEPTH + 1
    assert [(len(each.path), each.keyword) for each in found] == [(deepest, "$depth")]
    # No answer about the deep value, so that `not` cannot make a pass of it (the nested arrays
    # all match {"items": …}: `not` would fail, were the document shallower).
    found = violations({"not": {"items": {"$ref": "#/not"}}}, document)
    assert [(len(each.path), each.keyword) for each in found] == [(deepest, "$depth")]
    assert [each.keyword for each in violations({"not": {"items": {"$ref": "#/not"}}}, [[1]])] == [
        "not"
    ]


def test_a_recursion_error_ends_the_validation_with_a_violation():
    def check(value, path, run, report):
        raise RecursionError

    assert Validator(check).validate({})[-1].keyword == "$depth"


def test_a_costly_validation_stops_on_the_step_budget():
    # Each level tries both branches, both fail: 2 ** 25 evaluations without the budget.
    levels = 25
    definitions = {f"l{i}": {"anyOf": [{"$ref": f"#/$defs/l{i + 1}"}] * 2} for i in range(levels)}
    definitions[f"l{levels}"] = {"type": "string"}
    validator = compile_schema({"$defs": definitions, "$ref": "#/$defs/l0"})
    started = time.perf_counter()
    found = validator.validate(1)
    assert time.perf_counter() - started < 5  # about 0.1 s; the budget is MAX_STEPS steps
    assert found == [
        Violation((), "$budget", f"validation stopped after {MAX_STEPS} steps: too costly to check")
    ]


def test_the_budget_stops_a_long_run_of_violations_and_keeps_those_found():
    found = violations({"items": {"type": "string"}}, list(range(MAX_STEPS)), limit=3)
    where = [(each.path, each.keyword) for each in found]
    assert where == [((0,), "type"), ((1,), "type"), ((), "$budget")]


def test_strings_too_long_for_a_pattern_are_not_searched():
    too_long = "a" * (MAX_PATTERN_SUBJECT_LENGTH + 1)
    assert violations({"pattern": "^a"}, too_long) == [
        Violation((), "pattern", "is too long to check against pattern (more than 1000 characters)")
    ]
    assert violations({"pattern": "^a"}, too_long[1:]) == []
    found = violations({"patternProperties": {"^a": {}}}, {too_long: 1})
    assert [(each.path, each.keyword) for each in found] == [((too_long,), "patternProperties")]


@pytest.mark.parametrize(
    "schema",
    [
        {"not": {"pattern": "^a"}},
        {"anyOf": [{"pattern": "^a"}, {"type": "integer"}]},
        {"if": {"pattern": "^a"}, "then": {"minLength": 1}},
    ],
)
def test_a_string_too_long_for_a_pattern_under_not_or_anyof_stops_the_validation(schema):
    # `not` would turn "too long to check" into a pass: the validation stops instead
    too_long = "b" * (MAX_PATTERN_SUBJECT_LENGTH + 1)
    found = violations({"items": schema, "minItems": 3}, [too_long, 1])
    assert [(each.path, each.keyword) for each in found] == [((), "minItems"), ((0,), "pattern")]

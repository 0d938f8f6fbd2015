"""The applicators (properties, items, contains, allOf/anyOf/oneOf/not, if) through the
compiled schema: where each failure is reported, and with which keyword."""

from config_service.json_schema.validator import compile_schema


def keywords(schema, document) -> list[tuple]:
    return [(v.path, v.keyword) for v in compile_schema(schema).validate(document)]


def test_properties_and_additional_properties_report_at_the_member():
    schema = {"properties": {"a": {"type": "integer"}}, "additionalProperties": False}
    assert keywords(schema, {"a": "x", "b": 1}) == [
        (("a",), "type"),
        (("b",), "additionalProperties"),
    ]


def test_items_and_prefix_items_report_at_the_item():
    schema = {"prefixItems": [{"type": "string"}], "items": {"type": "integer"}}
    assert keywords(schema, [1, 2, "x"]) == [((0,), "type"), ((2,), "type")]


def test_one_of_fails_when_none_or_several_match():
    schema = {"oneOf": [{"minimum": 0}, {"maximum": 10}]}
    assert keywords(schema, 5) == [((), "oneOf")]
    assert keywords(schema, 20) == []


def test_not_and_if_then_else():
    assert keywords({"not": {"type": "string"}}, "x") == [((), "not")]
    conditional = {"if": {"minimum": 10}, "then": {"multipleOf": 2}, "else": {"maximum": 0}}
    assert keywords(conditional, 12) == [] and keywords(conditional, 11)[0][1] == "multipleOf"
    assert keywords(conditional, 5)[0][1] == "maximum"


def test_contains_counts_matching_items():
    schema = {"contains": {"type": "integer"}, "minContains": 2}
    assert keywords(schema, [1, "a"]) and keywords(schema, [1, 2]) == []

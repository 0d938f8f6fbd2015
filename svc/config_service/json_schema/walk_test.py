import pytest

from config_service.json_schema.violations import UnsupportedSchema
from config_service.json_schema.walk import MAX_SCHEMA_DEPTH, MAX_SCHEMA_NODES, walk_schema


def refusal(schema) -> list[tuple]:
    with pytest.raises(UnsupportedSchema) as refused:
        walk_schema(schema)
    return [(problem.path, problem.keyword) for problem in refused.value.problems]


def test_every_unknown_keyword_is_named_where_it_is():
    schema = {"minimun": 1, "properties": {"a": {"typo": True}}}
    assert refusal(schema) == [(("minimun",), "minimun"), (("properties", "a", "typo"), "typo")]


def test_size_and_depth_are_bounded_before_anything_else():
    assert refusal({"enum": list(range(MAX_SCHEMA_NODES + 1))}) == [((), "$size")]
    deep: dict = {}
    for _ in range(MAX_SCHEMA_DEPTH + 1):
        deep = {"not": deep}
    assert refusal(deep)[0][1] == "$depth"


def test_a_supported_schema_is_walked_whole():
    walk = walk_schema({"$defs": {"n": {"type": "integer"}}, "$ref": "#/$defs/n"})
    assert walk.problems == [] and len(walk.schemas) >= 2

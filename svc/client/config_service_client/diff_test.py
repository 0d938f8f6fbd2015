"""JSON-path differences: what a dry run prints."""

from config_service_client.diff import Difference, differences, same


def test_paths_of_added_removed_and_changed_members():
    old = {"a": 1, "b": {"c": [1, 2]}, "odd key": "x", "gone": None}
    new = {"a": 2, "b": {"c": [1, 3, 4]}, "odd key": "x", "new": {}}
    assert differences(old, new) == [
        Difference("changed", "$.a", 1, 2),
        Difference("changed", "$.b.c[1]", 2, 3),
        Difference("added", "$.b.c[2]", new=4),
        Difference("removed", "$.gone", old=None),
        Difference("added", "$.new", new={}),
    ]
    assert differences({"x y": 1}, {}) == [Difference("removed", '$["x y"]', old=1)]


def test_json_equality_tells_true_from_one_but_not_one_from_one_point_zero():
    assert same(1, 1.0) and not same(True, 1) and not same("1", 1) and not same([1], [1, 2])
    assert differences({"a": True}, {"a": 1}) == [Difference("changed", "$.a", True, 1)]
    assert differences({"a": {"b": 1}}, {"a": [1]})[0].kind == "changed"


def test_printed_forms():
    assert str(Difference("changed", "$.a", "x", None)) == 'changed $.a: "x" -> null'
    assert str(Difference("added", "$.a", new=[1])) == "added   $.a: [1]"
    assert str(Difference("removed", "$.a", old=1)) == "removed $.a: 1"

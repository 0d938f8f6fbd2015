import pytest
from pydantic import TypeAdapter, ValidationError

from config_service.fields import Comments, ConfigDocument, Name, Ulid, check_json_document


ULID_TEXT = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def test_ulids_are_accepted_in_any_case_and_answered_in_upper_case():
    adapter = TypeAdapter(Ulid)
    assert adapter.validate_python(ULID_TEXT.lower()) == ULID_TEXT
    assert adapter.validate_python(ULID_TEXT) == ULID_TEXT


@pytest.mark.parametrize(
    "value", ["", "01ARZ3NDEK", ULID_TEXT + "0", "8" + ULID_TEXT[1:], "U" * 26, 5]
)
def test_malformed_ulids_are_refused(value):
    with pytest.raises(ValidationError):
        TypeAdapter(Ulid).validate_python(value)


def test_ulids_are_documented_as_26_character_strings():
    schema = TypeAdapter(Ulid).json_schema()
    assert (schema["type"], schema["minLength"], schema["maxLength"]) == ("string", 26, 26)


@pytest.mark.parametrize("value", ["", " \t ", "x" * 257, "a\x00b", "lone \ud800 surrogate"])
def test_names_must_be_storable_and_not_blank(value):
    with pytest.raises(ValidationError):
        TypeAdapter(Name).validate_python(value)


def test_comments_may_be_empty_but_not_longer_than_1024():
    adapter = TypeAdapter(Comments)
    assert adapter.validate_python("") == ""
    with pytest.raises(ValidationError):
        adapter.validate_python("c" * 1025)


def nested(depth: int) -> dict:
    document: dict = {}
    for _ in range(depth - 1):
        document = {"d": document}
    return document


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"x": float("nan")}, "finite"),
        ({"x": [1, float("inf")]}, "finite"),
        ({"x": "a\x00b"}, "NUL"),
        ({"k\x00": 1}, "NUL"),
        ({"x": {"y": ["\udfff"]}}, "surrogates"),
        (nested(9), "deeper than 8"),
        ({"a": [[[[[[[[1]]]]]]]]}, "deeper than 8"),
    ],
)
def test_check_json_document_refuses_what_jsonb_cannot_store(document, message):
    with pytest.raises(ValueError, match=message):
        check_json_document(document, max_depth=8)


def test_check_json_document_accepts_ordinary_json_up_to_the_depth():
    check_json_document({"a": [1, 2.5, None, True, "ü", {"b": 10**100}], **nested(7)}, max_depth=8)


def test_config_documents_must_be_storable_objects_at_any_depth_the_parser_allows():
    adapter = TypeAdapter(ConfigDocument)
    assert adapter.validate_python({"a": 1}) == {"a": 1}
    assert adapter.validate_python(nested(100)) == nested(100)  # MAX_JSON_DEPTH: the router's
    with pytest.raises(ValidationError):
        adapter.validate_python([1])
    with pytest.raises(ValidationError, match="NUL"):
        adapter.validate_python(nested(50) | {"x": "\x00"})

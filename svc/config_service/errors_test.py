import copy

from config_service.errors import DatabaseUnavailable, InvalidValue


def test_a_copied_error_says_the_same_in_an_object_of_its_own():
    error = DatabaseUnavailable("down", reason="statement_timeout", retry_after=3)
    twin = copy.copy(error)
    assert twin is not error and type(twin) is DatabaseUnavailable
    assert (twin.detail, twin.reason, twin.retry_after, twin.args) == ("down", "statement_timeout", 3, ("down",))
    try:
        raise twin
    except DatabaseUnavailable:
        pass
    assert error.__traceback__ is None  # raising the copy left the original untouched


def test_invalid_value_names_where():
    assert InvalidValue("bad", loc=("body", "config")).loc == ("body", "config")
    assert InvalidValue("bad").loc == ("body",)

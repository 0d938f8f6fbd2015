from config_service.errors import DatabaseUnavailable, InvalidValue


def test_an_unavailable_database_says_why_and_when_to_retry():
    error = DatabaseUnavailable("down", reason="statement_timeout", retry_after=3)
    assert (error.detail, error.reason, error.retry_after, error.args) == (
        "down",
        "statement_timeout",
        3,
        ("down",),
    )


def test_invalid_value_names_where():
    assert InvalidValue("bad", loc=("body", "config")).loc == ("body", "config")
    assert InvalidValue("bad").loc == ("body",)

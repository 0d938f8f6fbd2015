from config_service.json_schema.keywords import canonical, counted, exact, shown


def test_canonical_values_are_equal_where_json_values_are():
    assert canonical(1) == canonical(1.0)
    assert canonical(True) != canonical(1)
    assert canonical({"a": [1, {"b": 2}]}) == canonical({"a": [1.0, {"b": 2}]})
    assert canonical([1, 2]) != canonical([2, 1])


def test_exact_reads_a_float_as_the_decimal_it_was_written_as():
    assert exact(0.01) == (1, 100)
    assert exact(7) == (7, 1)
    assert exact(1e300)[0] == 10**300
    assert exact(float("inf")) is None


def test_messages_show_values_briefly_and_count_nouns():
    assert shown("x" * 100, limit=10) == '"xxxxxxxx…'
    assert (counted(1, "property"), counted(2, "property"), counted(3, "item")) == (
        "1 property",
        "2 properties",
        "3 items",
    )

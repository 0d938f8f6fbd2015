import pytest

from config_service.access.scope import EVERYTHING, SCOPE_CONDITION, ApplicationScope


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("payments", True),  # exact
        ("payments-api", True),  # prefix
        ("payments-", True),  # the prefix itself is a name that starts with it
        ("Payments-api", False),  # case-sensitive, as the unique index
        ("xpayments-api", False),
        ("paymentsapi", False),
        ("payment", False),
        ("billing", False),
    ],
)
def test_exact_names_and_prefixes_match_case_sensitively(name, allowed):
    scope = ApplicationScope.of(["payments", "payments-*"])
    assert scope.allows(name) is allowed


def test_a_prefix_alone_does_not_match_the_bare_name():
    scope = ApplicationScope.of(["payments-*"])
    assert scope.allows("payments-api") and not scope.allows("payments")


def test_star_alone_is_everything_and_absorbs_other_patterns():
    assert ApplicationScope.of(["billing", "*"]) is EVERYTHING
    assert EVERYTHING.allows("anything at all")


def test_covered_patterns_are_dropped_so_a_check_loops_over_few_prefixes():
    scope = ApplicationScope.of(["pay*", "payments-*", "payroll", "billing"])
    assert scope.prefixes == ("pay",)
    assert scope.exact == {"billing"}


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("", "empty"),
        ("  ", "empty"),
        ("pay*ments", "may only end"),
        ("**", "may only end"),
        ("a" * 257, "longer"),
        (7, "not a string"),
        ("pay\x00", "NUL"),
    ],
)
def test_bad_patterns_say_why(pattern, reason):
    with pytest.raises(ValueError, match=reason):
        ApplicationScope.of([pattern])


def test_the_longest_name_and_its_prefix_pattern_are_fine():
    assert ApplicationScope.of(["a" * 256, "b" * 256 + "*"]).allows("a" * 256)


NAMES = [
    "payments",
    "payments-api",
    "Payments-api",
    "xpayments-api",
    "pay_x",
    "payAx",
    "100%-done",
    "100-done",
    "back\\slash",
    "backslash",
    "billing",
]


@pytest.mark.parametrize(
    "patterns",
    [
        ["payments", "payments-*"],
        ["pay_*"],  # `_` is literal, not LIKE's any-character
        ["100%*"],  # `%` is literal
        ["back\\*"],  # `\` is literal
        ["*"],
        ["billing"],
    ],
)
def test_the_sql_condition_decides_as_python_does(cursor, patterns):
    scope = ApplicationScope.of(patterns)
    cursor.execute(
        f"SELECT a.name FROM unnest(%(names)s::text[]) AS a(name) WHERE {SCOPE_CONDITION}",
        {"names": NAMES, **scope.sql_parameters()},
    )
    assert sorted(row["name"] for row in cursor.fetchall()) == sorted(
        name for name in NAMES if scope.allows(name)
    )

import pytest

from config_service.json_schema.patterns import (
    MAX_GROUP_NESTING,
    PatternError,
    compile_pattern,
)


def matches(pattern: str, text: str) -> bool:
    return compile_pattern(pattern).regex.search(text) is not None


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        (r"^\d+$", "123", True),
        (r"^\d+$", "١٢٣", False),  # ECMA-262's \d is ASCII; re's takes every Nd digit
        (r"^\w+$", "é", False),
        (r"^\W$", "é", True),
        (r"\bfoo\b", "éfoo", True),  # é is no word character to ECMA-262's \b
        (r"^\s$", "\u00a0", True),
        (r"^\s$", "\ufeff", True),  # ECMA-262's \s holds U+FEFF; re's does not
        (r"^\s$", "\x1c", False),  # re's \s holds U+001C; ECMA-262's does not
        (r"^[\S]$", " ", False),
        (r"^[^\s]$", "x", True),
        (r"^a$", "a\n", False),  # re's $ also matches before a final newline
        (r"^.$", "\r", False),  # ECMA-262's . stops at all four line terminators
        (r"^.$", "\u2028", False),
        (r"^.$", "😀", True),
        (r"^\p{Letter}+$", "Hello", True),
        (r"^\p{Letter}+$", "π", True),
        (r"^\p{L}+$", "123", False),
        (r"^\p{Lu}$", "a", False),
        (r"^\p{gc=Nd}$", "٣", True),
        (r"^\P{L}$", "1", True),
        (r"^[\p{Lu}\d]+$", "A1", True),
        (r"^[^]$", "\n", True),  # ECMA-262's [^] is any character, [] none
        (r"[]", "a", False),
        (r"^[a-]$", "-", True),
        (r"^[\d-]+$", "1-2", True),
        (r"^[a\-z]$", "b", False),
        (r"^[+--]$", ",", True),  # a range from + to -
        (r"^[[]$", "[", True),
        (r"^\x41\u0042$", "AB", True),
        (r"^\u{1F600}$", "😀", True),
        (r"^\uD83D\uDE00$", "😀", True),  # a surrogate pair is one code point
        (r"^\cJ$", "\n", True),
        (r"^\/$", "/", True),
        (r"^(?<year>\d{4})-\k<year>$", "2024-2024", True),
        (r"^(a)\1$", "aa", True),
        (r"^(?:ab|c)$", "c", True),
        (r"(?<=a)b", "ab", True),
        (r"(?<!a)b", "ab", False),
        (r"^[\b]$", "\b", True),  # backspace inside a class
    ],
)
def test_patterns_mean_what_ecma_262_means(pattern, text, found):
    assert matches(pattern, text) is found


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(", "not a valid regular expression"),
        ("\\", "lone backslash"),
        ("[a", "never closed"),
        (r"[z-a]", "out of order"),
        (r"[\d-z]", "a range ends in"),
        (r"\k", "needs <a group name>"),
        (r"\1", "not a valid regular expression"),  # no group 1
        (r"\012", "octal"),
        (r"\p{Script=Greek}", "only Unicode general categories"),
        (r"\p{Letterz}", "only Unicode general categories"),
        (r"\A", r"not ECMA-262: \A"),
        (r"\Z", r"not ECMA-262: \Z"),
        ("(?i)a", "not ECMA-262"),
        ("(?P<name>a)", "not ECMA-262"),
        ("(?#comment)", "not ECMA-262"),
        ("(?>a)", "not ECMA-262"),
        ("a*+", "possessive"),
        ("a{,3}", "{,n}"),
        ("(" * (MAX_GROUP_NESTING + 1) + ")" * (MAX_GROUP_NESTING + 1), "groups deep"),
    ],
)
def test_patterns_outside_ecma_262_or_re_are_refused(pattern, reason):
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern)
    assert reason in str(caught.value)


def test_the_deepest_nesting_allowed_compiles():
    compile_pattern("(" * MAX_GROUP_NESTING + "a" + ")" * MAX_GROUP_NESTING)

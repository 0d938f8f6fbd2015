import re
import re._parser as parser
import time

import pytest

from config_service.json_schema.backtracking import backtracking_degree, complement
from config_service.json_schema.patterns import (
    MAX_PATTERN_SUBJECT_LENGTH,
    PatternError,
    compile_pattern,
)


def test_re_parser_still_has_the_shapes_the_check_reads():
    # backtracking.py leans on CPython 3.13's private re._parser: if this fails, read
    # the new shapes and adapt the module before trusting its verdicts.
    repeat, = parser.parse(r"(?:-[a-z]+)*", re.ASCII)
    assert repeat[0] is parser.MAX_REPEAT
    low, high, body = repeat[1]
    assert (low, high, body.getwidth()) == (0, parser.MAXREPEAT, (2, parser.MAXWIDTH))
    assert isinstance(body, parser.SubPattern) and body.state is not None
    assert [item[0] for item in body] == [parser.LITERAL, parser.MAX_REPEAT]
    assert body[1][1][2][0] == (parser.IN, [(parser.RANGE, (0x61, 0x7A))])
    group, branch = parser.parse(r"(a)(?:bc|d+)", re.ASCII)
    assert group[0] is parser.SUBPATTERN and list(group[1][3]) == [(parser.LITERAL, 0x61)]
    assert branch[0] is parser.BRANCH and [alt.getwidth() for alt in branch[1][1]] == [
        (2, 2),
        (1, parser.MAXWIDTH),
    ]
    negated = [(parser.NEGATE, None), (parser.RANGE, (0x61, 0x63))]
    assert list(parser.parse("[^a-c]")) == [(parser.IN, negated)]
    assert list(parser.parse("[^a]")) == [(parser.NOT_LITERAL, 0x61)]
    anchor, lazy = parser.parse("^a*?")
    assert anchor == (parser.AT, parser.AT_BEGINNING)
    assert lazy[0] is parser.MIN_REPEAT and list(lazy[1][2]) == [(parser.LITERAL, 0x61)]
    lookahead, possessive = parser.parse("(?=a)b*+")
    assert lookahead[0] is parser.ASSERT and list(lookahead[1][1]) == [(parser.LITERAL, 0x61)]
    assert possessive[0] is parser.POSSESSIVE_REPEAT
    assert parser.SubPattern(body.state, [(parser.LITERAL, 0x61)]).getwidth() == (1, 1)


@pytest.mark.parametrize(
    "pattern",
    [
        "(a+)+",
        "(a|a)*",
        "(.*)*",
        r"(\w+\s?)*",
        "(a|aa)*b",
        "(?:a|b|ab)*",
        "(?:a*)*",
        "(?:(?:ab)+|a)*",
    ],
)
def test_patterns_that_could_backtrack_exponentially_are_refused(pattern):
    with pytest.raises(PatternError, match="exponentially"):
        compile_pattern(pattern)


@pytest.mark.parametrize(
    "pattern",
    [".*.*x", r"\d+\.?\d*", ".*a.*b", "^a*a*a*b", r"^\d+\d+\d+$"],
)
def test_patterns_that_could_take_cubic_time_are_refused(pattern):
    with pytest.raises(PatternError, match="cubic"):
        compile_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "degree"),
    [
        (r"^[a-z]+(-[a-z]+)*$", 1),
        (r"^(?:[a-z0-9-]+\.)+[a-z]{2,}$", 2),
        (r"^\d+\.?\d*$", 2),
        (r"^(\d+,)*\d+$", 2),
        (r"\S", 1),  # each try reads one character
        (r"^(https?|ftp)://", 1),
        (r"\d+x", 2),
        ("f.*o", 2),
        ("^.*foo.*$", 2),
        ("(?:a|b)*c", 2),
        (r"^(?=.*a)(?=.*b).*c$", 1),
    ],
)
def test_other_patterns_are_graded_linear_or_quadratic(pattern, degree):
    translated = compile_pattern(pattern).regex.pattern
    assert backtracking_degree(translated) == compile_pattern(pattern).degree == degree


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("^.*.*x", "a"),
        (r"\d+x", "1"),
        (r"^\d+\.?\d*$", "1"),
        ("(?:a|b)*c", "ab"),
        ("(?=.*a).*", "b"),
        (r"\w+@\w+\.\w+", "a"),
    ],
)
def test_the_worst_accepted_patterns_stay_fast_at_the_longest_string_searched(pattern, text):
    # milliseconds on a quiet machine; the bound leaves room for a loaded one
    subject = (text * MAX_PATTERN_SUBJECT_LENGTH)[: MAX_PATTERN_SUBJECT_LENGTH - 1] + "!"
    regex = compile_pattern(pattern).regex
    started = time.perf_counter()
    regex.search(subject)
    assert time.perf_counter() - started < 0.5


def test_complement():
    assert complement(((0, 9), (20, 0x10FFFF))) == ((10, 19),)
    assert complement(()) == ((0, 0x10FFFF),)

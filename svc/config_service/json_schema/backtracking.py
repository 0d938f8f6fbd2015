"""How long `re` may backtrack on a pattern, judged from the pattern's syntax tree alone: what
could take exponential time is refused, and the rest is graded linear or quadratic in the length
of the string searched. Conservative: some harmless patterns are refused with the rest.

Leans on re._parser, CPython 3.13's private parser of re (a tree of (opcode, argument) pairs and
SubPattern.getwidth()); patterns_test.py fails if the shapes used here change."""

import re
import re._parser as parser  # private API of CPython 3.13: see the module docstring
from typing import Any

# A set of characters: (first, last) code point ranges, in no particular order.
Ranges = tuple[tuple[int, int], ...]
MAX_CODE_POINT = 0x10FFFF
ALL: Ranges = ((0, MAX_CODE_POINT),)
REPEATS = (parser.MAX_REPEAT, parser.MIN_REPEAT, parser.POSSESSIVE_REPEAT)
ZERO_WIDTH = (parser.AT, parser.ASSERT, parser.ASSERT_NOT)
Item = tuple[Any, Any]  # (opcode, argument)
# A pattern that matches this many characters at most costs a bounded time per try.
SHORT_MATCH = 64

NESTED = (
    "refused: a repeated group can match the same text in more than one way (as (a+)+, (a|a)*"
    " or (.*)* can), so re could backtrack for an exponentially long time"
)
ADJACENT = (
    "refused: quantifiers that can match the same characters follow each other (as in .*a.*),"
    " so re could take time cubic in the string's length; anchor it with ^ or keep neighbours"
    " disjoint"
)


def backtracking_degree(pattern: str) -> int:
    """1 if searching with `pattern` takes time linear in the string's length at worst, 2 if
    quadratic; ValueError if worse. `pattern` is re syntax, already known to compile."""
    tree = parser.parse(pattern, re.ASCII)
    ambiguities = _sequence(tree)
    # re.search tries every start (but for a pattern that begins with ^): one factor more,
    # unless each try reads a few characters at most.
    anchored = len(tree) > 0 and tree[0] == (parser.AT, parser.AT_BEGINNING)
    short = tree.getwidth()[1] <= SHORT_MATCH
    degree = 1 + ambiguities + (0 if anchored or short else 1)
    if degree > 2:
        raise ValueError(ADJACENT)
    return degree


def complement(ranges: Ranges) -> Ranges:
    """The code points not in `ranges`."""
    result, start = [], 0
    for low, high in sorted(ranges):
        if low > start:
            result.append((start, low - 1))
        start = max(start, high + 1)
    if start <= MAX_CODE_POINT:
        result.append((start, MAX_CODE_POINT))
    return tuple(result)


def _sequence(sequence: parser.SubPattern) -> int:
    """How many places in `sequence` (and in what it holds) where two quantifiers that can match
    the same characters meet, so that re may try every way of sharing a run between them."""
    ambiguities = 0
    reachable: Ranges = ()  # what the variable items before may still take from this position
    for item in sequence:
        ambiguities += _inside(item)
        low, high = _width(sequence, item)
        if high == 0:
            continue
        overlaps = _overlap(reachable, _first(item))
        if low != high:
            ambiguities += overlaps
            reachable = (reachable if overlaps or low == 0 else ()) + _chars(item)
        else:
            reachable = reachable + _chars(item) if overlaps else ()
    return ambiguities


def _inside(item: Item) -> int:
    """Refuse what `item` holds if it could be exponential; else its ambiguities."""
    operation, argument = item
    if operation is parser.POSSESSIVE_REPEAT:
        raise ValueError("not ECMA-262: possessive quantifiers (*+, ++, ?+) are Python's")
    if operation in REPEATS:
        _, high, body = argument
        if high > 1:
            _repeatable(body)
        return _sequence(body)
    if operation is parser.SUBPATTERN:
        return _sequence(argument[3])
    if operation is parser.BRANCH:
        alternatives = argument[1]
        return _ambiguous(alternatives) + sum(_sequence(each) for each in alternatives)
    if operation in (parser.ASSERT, parser.ASSERT_NOT):
        return _sequence(argument[1])
    if operation in (parser.ATOMIC_GROUP, parser.GROUPREF_EXISTS):
        raise ValueError("not ECMA-262: atomic and conditional groups are Python's")
    return 0


def _repeatable(body: parser.SubPattern) -> None:
    """A body repeated must split a run into iterations one way only: it holds no ambiguous
    alternatives, and if it varies in length, a fixed part no variable part can match (as the
    "-" of (-[a-z]+)*) marks where each iteration starts."""
    if _any_ambiguous(body):
        raise ValueError(NESTED)
    body = _flat(body)
    variable: Ranges = ()
    for item in body:
        low, high = _width(body, item)
        if low != high:
            variable += _chars(item)
    if not variable:
        return
    for item in body:
        low, high = _width(body, item)
        if low == high > 0 and not _overlap(_chars(item), variable):
            return
    raise ValueError(NESTED)


def _flat(sequence: parser.SubPattern) -> parser.SubPattern:
    """`sequence` with its groups opened: (-[a-z]+) is "-" then [a-z]+."""
    items: list[Item] = []
    for operation, argument in sequence:
        if operation is parser.SUBPATTERN:
            items.extend(_flat(argument[3]))
        else:
            items.append((operation, argument))
    return parser.SubPattern(sequence.state, items)


def _ambiguous(alternatives: list[parser.SubPattern]) -> bool:
    """Whether two alternatives can start the same way (or both match nothing)."""
    seen: Ranges = ()
    empty = 0
    for alternative in alternatives:
        first = _first_of(alternative)
        if _overlap(seen, first):
            return True
        seen += first
        empty += alternative.getwidth()[0] == 0
    return empty > 1


def _any_ambiguous(sequence: parser.SubPattern) -> bool:
    for operation, argument in sequence:
        if operation is parser.BRANCH:
            alternatives = argument[1]
            if _ambiguous(alternatives) or any(map(_any_ambiguous, alternatives)):
                return True
        elif operation in REPEATS and _any_ambiguous(argument[2]):
            return True
        elif operation is parser.SUBPATTERN and _any_ambiguous(argument[3]):
            return True
    return False


def _width(sequence: parser.SubPattern, item: Item) -> tuple[int, int]:
    return parser.SubPattern(sequence.state, [item]).getwidth()


def _first_of(sequence: parser.SubPattern) -> Ranges:
    """The characters a match of `sequence` can start with."""
    found: Ranges = ()
    for item in sequence:
        low, high = _width(sequence, item)
        if high > 0:
            found += _first(item)
            if low > 0:
                break
    return found


def _first(item: Item) -> Ranges:
    operation, argument = item
    if operation in REPEATS:
        return _first_of(argument[2])
    if operation is parser.SUBPATTERN:
        return _first_of(argument[3])
    if operation is parser.BRANCH:
        return tuple(r for each in argument[1] for r in _first_of(each))
    return _chars(item)


def _chars(item: Item) -> Ranges:
    """Every character `item` can match, or more (ALL where unsure)."""
    operation, argument = item
    if operation is parser.LITERAL:
        return ((argument, argument),)
    if operation is parser.NOT_LITERAL:
        return complement(((argument, argument),))
    if operation is parser.IN:
        return _set(argument)
    if operation in REPEATS:
        return tuple(r for each in argument[2] for r in _chars(each))
    if operation is parser.SUBPATTERN:
        return tuple(r for each in argument[3] for r in _chars(each))
    if operation is parser.BRANCH:
        alternatives = argument[1]
        return tuple(r for alt in alternatives for each in alt for r in _chars(each))
    if operation in ZERO_WIDTH:
        return ()
    return ALL  # ANY, back-references, categories: assume the worst


def _set(members: list[Item]) -> Ranges:
    ranges: list[tuple[int, int]] = []
    negate = False
    for operation, argument in members:
        if operation is parser.NEGATE:
            negate = True
        elif operation is parser.LITERAL:
            ranges.append((argument, argument))
        elif operation is parser.RANGE:
            ranges.append(argument)
        else:
            return ALL
    return complement(tuple(ranges)) if negate else tuple(ranges)


def _overlap(first: Ranges, second: Ranges) -> bool:
    first, second = tuple(sorted(first)), tuple(sorted(second))
    i = j = 0
    while i < len(first) and j < len(second):
        if first[i][1] < second[j][0]:
            i += 1
        elif second[j][1] < first[i][0]:
            j += 1
        else:
            return True
    return False

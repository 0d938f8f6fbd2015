"""JSON Schema's regular expressions (ECMA-262) as Python `re` patterns: translated where the two
dialects differ and the difference is cheap to bridge, refused where it is not, and refused where
`re` could backtrack for long (it cannot be interrupted). Imports nothing of the service."""

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

from config_service.json_schema.backtracking import (
    MAX_CODE_POINT,
    Ranges,
    backtracking_degree,
    complement,
)

# re cannot be interrupted: a longer string is not searched (a "pattern" violation). The worst
# searches the backtracking check lets through grow with the square of the length (measured in
# docs/schemas.md).
MAX_PATTERN_SUBJECT_LENGTH = 1_000
# Parentheses nested deeper than this are refused: re's parser and our analysis recurse per level.
MAX_GROUP_NESTING = 32
# ECMA-262's \d and \w are ASCII; its \s is WhiteSpace and LineTerminator, Unicode-wide.
DIGIT: Ranges = ((0x30, 0x39),)
WORD: Ranges = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
SPACE: Ranges = (
    (0x09, 0x0D), (0x20, 0x20), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A),
    (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF),
)  # fmt: skip
# ECMA-262's "." matches anything but its four line terminators; re's only excludes \n.
LINE_TERMINATORS: Ranges = ((0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029))
CONTROL_ESCAPES = {"f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}
GROUP_OPENINGS = ("(?:", "(?=", "(?!", "(?<=", "(?<!")
GROUP_NAME = re.compile(r"\(\?<([A-Za-z_$][A-Za-z0-9_$]*)>")
BACKREFERENCE_NAME = re.compile(r"k<([A-Za-z_$][A-Za-z0-9_$]*)>")
HEX = {"x": re.compile(r"x([0-9A-Fa-f]{2})"), "u": re.compile(r"u([0-9A-Fa-f]{4})")}
CODE_POINT = re.compile(r"u\{([0-9A-Fa-f]{1,6})\}")
PROPERTY = re.compile(r"[pP]\{([A-Za-z_=]+)\}")
# Unicode general categories by their long names (\p{Letter}, \p{Lu}, \p{gc=L} all work).
CATEGORY_NAMES = {
    "Letter": "L", "Cased_Letter": "LC", "Uppercase_Letter": "Lu", "Lowercase_Letter": "Ll",
    "Titlecase_Letter": "Lt", "Modifier_Letter": "Lm", "Other_Letter": "Lo", "Mark": "M",
    "Nonspacing_Mark": "Mn", "Spacing_Mark": "Mc", "Enclosing_Mark": "Me", "Number": "N",
    "Decimal_Number": "Nd", "Letter_Number": "Nl", "Other_Number": "No", "Punctuation": "P",
    "Connector_Punctuation": "Pc", "Dash_Punctuation": "Pd", "Open_Punctuation": "Ps",
    "Close_Punctuation": "Pe", "Initial_Punctuation": "Pi", "Final_Punctuation": "Pf",
    "Other_Punctuation": "Po", "Symbol": "S", "Math_Symbol": "Sm", "Currency_Symbol": "Sc",
    "Modifier_Symbol": "Sk", "Other_Symbol": "So", "Separator": "Z", "Space_Separator": "Zs",
    "Line_Separator": "Zl", "Paragraph_Separator": "Zp", "Other": "C", "Control": "Cc",
    "Format": "Cf", "Surrogate": "Cs", "Private_Use": "Co", "Unassigned": "Cn",
}  # fmt: skip


class PatternError(ValueError):
    """The pattern is refused; the message says why."""



@dataclass(frozen=True, slots=True)
class Pattern:
    """A `pattern` compiled: `regex.search` means what ECMA-262 means by it."""

    source: str
    regex: re.Pattern[str]
    degree: int  # how re's worst case grows with the string's length: 1 linear, 2 quadratic


def compile_pattern(source: str) -> Pattern:
    """The pattern translated and compiled, or PatternError saying why not."""
    translated = _translate(source)
    try:
        # ASCII: \b and \B are ASCII-only in ECMA-262; \d, \w, \s arrive as explicit classes.
        regex = re.compile(translated, re.ASCII)
        degree = backtracking_degree(translated)
    except re.error as error:
        raise PatternError(f"not a valid regular expression: {error}") from None
    except ValueError as error:
        raise PatternError(str(error)) from None
    return Pattern(source, regex, degree)


def _translate(source: str) -> str:
    """ECMA-262 syntax (with the u flag) as re syntax, one token at a time."""
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            kind, value, i = _escape(source, i + 1)
            if kind == "class":
                out.append(_class(value))
            else:
                out.append(_literal(value) if kind == "char" else value)
        elif char == "[":
            text, i = _character_class(source, i + 1)
            out.append(text)
        elif char == "(":
            depth += 1
            if depth > MAX_GROUP_NESTING:
                raise PatternError(f"nested more than {MAX_GROUP_NESTING} groups deep")
            text, length = _group_opening(source, i)
            out.append(text)
            i += length
        else:
            if char == ")":
                depth -= 1
            elif source.startswith("{,", i):
                raise PatternError("not ECMA-262: {,n} is Python's quantifier")
            out.append(DOT if char == "." else r"\Z" if char == "$" else char)
            i += 1
    return "".join(out)


def _group_opening(source: str, i: int) -> tuple[str, int]:
    if not source.startswith("(?", i):
        return "(", 1
    for opening in GROUP_OPENINGS:
        if source.startswith(opening, i):
            return opening, len(opening)
    if named := GROUP_NAME.match(source, i):
        return f"(?P<{named[1]}>", named.end() - i
    raise PatternError(f"not ECMA-262: {source[i : i + 3]!r} (flags, comments, atomic groups)")


def _escape(source: str, i: int) -> tuple[str, Any, int]:
    """The escape after the backslash at i - 1: ("class", Ranges) or ("char", code point) or
    ("text", re syntax), and where the next token starts."""
    if i >= len(source):
        raise PatternError("not a valid regular expression: it ends with a lone backslash")
    char = source[i]
    if char in "dDwWsS":
        ranges = {"d": DIGIT, "w": WORD, "s": SPACE}[char.lower()]
        return "class", ranges if char.islower() else complement(ranges), i + 1
    if char in "pP":
        if not (named := PROPERTY.match(source, i)):
            raise PatternError(rf"not a valid regular expression: \{char} needs {{a property}}")
        ranges = _property(named[1])
        return "class", ranges if char == "p" else complement(ranges), named.end()
    if char in "bB":
        return "text", "\\" + char, i + 1
    if char in CONTROL_ESCAPES:
        return "char", CONTROL_ESCAPES[char], i + 1
    following = source[i + 1 : i + 2]
    if char == "c" and following.isascii() and following.isalpha():
        return "char", ord(following) % 32, i + 2
    if char == "0" and not following.isdigit():
        return "char", 0, i + 1
    if char in "0123456789":
        digits = re.match(r"[0-9]+", source[i:])[0]
        if len(digits) > 2 or char == "0":
            raise PatternError(rf"not supported: \{digits} (octal, or more than 99 groups)")
        return "text", "\\" + digits, i + len(digits)
    if char == "k":
        if not (named := BACKREFERENCE_NAME.match(source, i)):
            raise PatternError(r"not a valid regular expression: \k needs <a group name>")
        return "text", f"(?P={named[1]})", named.end()
    if char in ("x", "u"):
        return _code_point(source, i)
    if char.isascii() and char.isalnum():
        raise PatternError(rf"not ECMA-262: \{char} is no escape there")
    return "char", ord(char), i + 1


def _code_point(source: str, i: int) -> tuple[str, Any, int]:
    """\\xHH, \\uHHHH (a surrogate pair of them is one code point) or \\u{H…}."""
    if braced := CODE_POINT.match(source, i):
        if int(braced[1], 16) > MAX_CODE_POINT:
            raise PatternError(r"not a valid regular expression: \u{…} past U+10FFFF")
        return "char", int(braced[1], 16), braced.end()
    if not (hexadecimal := HEX[source[i]].match(source, i)):
        raise PatternError(rf"not a valid regular expression: \{source[i]} needs hex digits")
    value, end = int(hexadecimal[1], 16), hexadecimal.end()
    low = HEX["u"].match(source, end + 1) if source.startswith("\\", end) else None
    if 0xD800 <= value <= 0xDBFF and low and 0xDC00 <= int(low[1], 16) <= 0xDFFF:
        return "char", 0x10000 + ((value - 0xD800) << 10) + int(low[1], 16) - 0xDC00, low.end()
    return "char", value, end


def _character_class(source: str, i: int) -> tuple[str, int]:
    """The class whose "[" is at i - 1, as ranges re reads one way only, and where it ends."""
    negate = source.startswith("^", i)
    i += negate
    atoms: list[tuple[str, Any]] = []  # ("char", code point), ("dash", 45), ("class", Ranges)
    while not source.startswith("]", i):
        if i >= len(source):
            raise PatternError("not a valid regular expression: a [ is never closed")
        if source[i] == "\\":
            kind, value, i = _escape(source, i + 1)
            if kind == "text":
                if value != r"\b":
                    raise PatternError(f"not a valid regular expression: {value} inside [ ]")
                kind, value = "char", 0x08
        else:
            kind, value, i = ("dash" if source[i] == "-" else "char"), ord(source[i]), i + 1
        atoms.append((kind, value))
    ranges: list[tuple[int, int]] = []
    j = 0
    while j < len(atoms):
        kind, value = atoms[j]
        if j + 2 < len(atoms) and atoms[j + 1][0] == "dash":
            high_kind, high = atoms[j + 2]
            if kind == "class" or high_kind == "class":
                raise PatternError(r"not a valid regular expression: a range ends in \d, \w or \s")
            if value > high:
                raise PatternError("not a valid regular expression: a range out of order in [ ]")
            ranges.append((value, high))
            j += 3
            continue
        ranges.extend(value if kind == "class" else ((value, value),))
        j += 1
    return _class(tuple(ranges), negate), i + 1


def _class(ranges: Ranges, negate: bool = False) -> str:
    """A class of code points written with \\U escapes, so that no character means syntax."""
    if not ranges:  # ECMA-262's [] matches nothing and [^] anything; re has no empty class
        ranges, negate = ((0, MAX_CODE_POINT),), not negate
    body = "".join(
        rf"\U{low:08x}" + (rf"-\U{high:08x}" if high > low else "") for low, high in ranges
    )
    return f"[{'^' if negate else ''}{body}]"


def _literal(code_point: int) -> str:
    return re.escape(chr(code_point))


def _property(name: str) -> Ranges:
    """\\p{…}: a Unicode general category by its short or long name (gc= allowed)."""
    category = CATEGORY_NAMES.get(name.removeprefix("General_Category=").removeprefix("gc="))
    category = category or name.removeprefix("General_Category=").removeprefix("gc=")
    table = _categories()
    if category == "LC":
        members = ["Lu", "Ll", "Lt"]
    else:
        members = [each for each in table if category in (each, each[0])]
    if not members:
        raise PatternError(rf"not supported: \p{{{name}}} (only Unicode general categories are)")
    return tuple(sorted(r for member in members for r in table[member]))


@cache
def _categories() -> dict[str, Ranges]:
    """Every code point's general category as ranges: one pass of about half a second, once."""
    found: dict[str, list[tuple[int, int]]] = {}
    start, current = 0, unicodedata.category("\0")
    for code_point in range(1, MAX_CODE_POINT + 2):
        category = unicodedata.category(chr(code_point)) if code_point <= MAX_CODE_POINT else ""
        if category != current:
            found.setdefault(current, []).append((start, code_point - 1))
            start, current = code_point, category
    return {category: tuple(ranges) for category, ranges in found.items()}


DOT = _class(LINE_TERMINATORS, negate=True)

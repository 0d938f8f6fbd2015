"""The keywords that test a value itself (type, enum, const, bounds, lengths, pattern, required,
uniqueItems…), each built once into a closure, and what every keyword shares: failing, JSON
equality, searching within the budget. Keyword values arrive checked by walk.py."""

import json
import math
import operator
from collections.abc import Callable
from typing import Any, Protocol

from config_service.json_schema.patterns import MAX_PATTERN_SUBJECT_LENGTH, Pattern
from config_service.json_schema.violations import (
    Check,
    OutOfBudget,
    Path,
    Run,
    Unanswerable,
    Violation,
)

# A search costs steps of the budget as its worst case would (docs/schemas.md): by characters
# squared when graded quadratic, by characters when linear.
QUADRATIC_CHARACTERS_PER_STEP = 150
LINEAR_CHARACTERS_PER_STEP = 30
# A violation reported (its message built, later sorted) costs as much as a few steps.
VIOLATION_STEPS = 4
PYTHON_TYPES = {
    "null": (type(None),), "boolean": (bool,), "object": (dict,), "array": (list,),
    "string": (str,), "number": (int, float), "integer": (int,),
}  # fmt: skip
NUMBERS = (int, float)
COMPARISONS = {
    "minimum": (operator.ge, ">="),
    "maximum": (operator.le, "<="),
    "exclusiveMinimum": (operator.gt, ">"),
    "exclusiveMaximum": (operator.lt, "<"),
}
# Keywords that compare a length: the type they apply to, the test, the message and its noun.
SIZES = {
    "minLength": (str, operator.ge, "must be at least {} long", "character"),
    "maxLength": (str, operator.le, "must be at most {} long", "character"),
    "minItems": (list, operator.ge, "must have at least {}", "item"),
    "maxItems": (list, operator.le, "must have at most {}", "item"),
    "minProperties": (dict, operator.ge, "must have at least {}", "property"),
    "maxProperties": (dict, operator.le, "must have at most {}", "property"),
}
TOO_LONG = (
    f"is too long to check against pattern (more than {MAX_PATTERN_SUBJECT_LENGTH} characters)"
)
MISSING = object()


class Subschemas(Protocol):
    """What json_schema hands a schema object's keywords: its subschemas, compiled."""

    def subschema(self, *parts: str) -> Check: ...
    def reference(self) -> Check: ...
    def pattern(self, source: str) -> Pattern: ...


Built = list[tuple[tuple[type, ...] | None, Check]]  # (the types a check applies to, or all)


def accept(value: Any, path: Path, run: Run, report: bool) -> bool:
    """The schema `true`."""
    return True


def refuse(keyword: str, message: str) -> Check:
    """The schema `false`, reported under the keyword that led to it."""

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        return fail(run, report, path, keyword, message)

    return check


def fail(run: Run, report: bool, path: Path, keyword: str, message: str) -> bool:
    if report:
        run.steps -= VIOLATION_STEPS
        run.violations.append(Violation(path, keyword, message))
    return False


def unanswered(run: Run, report: bool, path: Path, keyword: str, message: str) -> bool:
    """A value that cannot be checked: reported as a violation where failures are reported,
    else the end of the validation (see Unanswerable)."""
    if not report:
        raise Unanswerable(Violation(path, keyword, message))
    return fail(run, report, path, keyword, message)


def canonical(value: Any, run: Run | None = None) -> object:
    """`value` as a hashable key that is equal where JSON values are: 1 and 1.0 alike, true and
    1 apart, objects regardless of member order. Steps are charged per array or object."""
    kind = type(value)
    if kind is bool:
        return (bool, value)  # Python's True == 1; JSON's true is no number
    if kind is list or kind is dict:
        if run is not None:
            run.steps -= 1 + len(value)
            if run.steps < 0:
                raise OutOfBudget
        if kind is list:
            return (list, tuple(canonical(item, run) for item in value))
        return (dict, frozenset((k, canonical(v, run)) for k, v in value.items()))
    return value  # str, None, and numbers: 1 == 1.0 and hash(1) == hash(1.0)


def shown(value: object, limit: int = 80) -> str:
    """`value` as JSON for a message, cut short past `limit` characters."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def counted(number: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{number} {noun if number == 1 else plural}"


def search(pattern: Pattern, text: str, run: Run) -> bool:
    """Whether `pattern` matches somewhere in `text`, charged to the budget at its worst."""
    length = len(text)
    if pattern.degree == 2:
        run.steps -= 1 + length * length // QUADRATIC_CHARACTERS_PER_STEP
    else:
        run.steps -= 1 + length // LINEAR_CHARACTERS_PER_STEP
    if run.steps < 0:
        raise OutOfBudget
    return pattern.regex.search(text) is not None


def exact(number: int | float) -> tuple[int, int] | None:
    """The number a JSON literal wrote, exactly, as (numerator, denominator): a float as its
    shortest decimal (0.01, not the binary fraction nearest it). None for infinity."""
    if type(number) is not float:
        return number, 1  # type: ignore[return-value]
    if not math.isfinite(number):
        return None
    digits, _, exponent = repr(number).partition("e")
    whole, _, decimals = digits.partition(".")
    numerator, denominator = int(whole + decimals), 10 ** len(decimals)
    if exponent:  # 1e+308, 1.5e-07: no overflow, Python's integers have no size limit
        scale = int(exponent)
        numerator, denominator = numerator * 10 ** max(scale, 0), denominator * 10 ** max(-scale, 0)
    return numerator, denominator


def build_type(schema: dict, subschemas: Subschemas) -> Built:
    if "type" not in schema:
        return []
    names = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
    accepted = frozenset(kind for name in names for kind in PYTHON_TYPES[name])
    whole_floats = "integer" in names and "number" not in names  # 1.0 is an integer
    message = "must be of type " + " or ".join(names)

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        kind = type(value)
        if kind in accepted or (whole_floats and kind is float and value.is_integer()):
            return True
        return fail(run, report, path, "type", message)

    return [(None, check)]


def build_enum(schema: dict, subschemas: Subschemas) -> Built:
    built: Built = []
    if "enum" in schema:
        members = frozenset(canonical(member) for member in schema["enum"])
        listed = ", ".join(shown(member, 40) for member in schema["enum"][:10])
        more = ", …" if len(schema["enum"]) > 10 else ""
        built.append((None, _member_of(members, "enum", f"must be one of: {listed}{more}")))
    if "const" in schema:
        only = frozenset((canonical(schema["const"]),))
        built.append((None, _member_of(only, "const", f"must be {shown(schema['const'])}")))
    return built


def _member_of(members: frozenset, keyword: str, message: str) -> Check:
    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        return canonical(value, run) in members or fail(run, report, path, keyword, message)

    return check


def build_numbers(schema: dict, subschemas: Subschemas) -> Built:
    built: Built = []
    for keyword, (holds, sign) in COMPARISONS.items():
        if keyword in schema:
            message = f"must be {sign} {shown(schema[keyword])}"
            built.append((NUMBERS, _compare(keyword, schema[keyword], holds, message)))
    if "multipleOf" in schema:
        built.append((NUMBERS, _multiple_of(schema["multipleOf"])))
    return built


def _compare(keyword: str, limit: object, holds: Callable, message: str) -> Check:
    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        return holds(value, limit) or fail(run, report, path, keyword, message)

    return check


def _multiple_of(divisor: int | float) -> Check:
    top, bottom = exact(divisor)  # type: ignore[misc]
    message = f"must be a multiple of {shown(divisor)}"

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        if type(value) is int and bottom == 1:
            if value % top == 0:
                return True
        # value / divisor is a whole number: exactly, not in floating point, where 0.0075 is no
        # multiple of 0.0001
        elif (number := exact(value)) is not None and number[0] * bottom % (number[1] * top) == 0:
            return True
        return fail(run, report, path, "multipleOf", message)

    return check


def build_sizes(schema: dict, subschemas: Subschemas) -> Built:
    built: Built = []
    for keyword, (kind, holds, wording, noun) in SIZES.items():
        if keyword in schema:
            limit = int(schema[keyword])  # 2.0 is an integer too
            message = wording.format(counted(limit, noun))
            built.append(((kind,), _size(keyword, limit, holds, message)))
    return built


def _size(keyword: str, limit: int, holds: Callable, message: str) -> Check:
    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        # len() of a str counts code points, as JSON Schema's lengths do
        return holds(len(value), limit) or fail(run, report, path, keyword, message)

    return check


def build_pattern(schema: dict, subschemas: Subschemas) -> Built:
    if "pattern" not in schema:
        return []
    pattern = subschemas.pattern(schema["pattern"])
    message = f"must match the pattern {shown(pattern.source)}"

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        if len(value) > MAX_PATTERN_SUBJECT_LENGTH:
            return unanswered(run, report, path, "pattern", TOO_LONG)
        return search(pattern, value, run) or fail(run, report, path, "pattern", message)

    return [((str,), check)]


def build_required(schema: dict, subschemas: Subschemas) -> Built:
    needed = [(name, (), f"{shown(name)} is required") for name in schema.get("required", ())]
    for trigger, names in schema.get("dependentRequired", {}).items():
        when = f"is required when {shown(trigger)} is present"
        needed += [(name, trigger, f"{shown(name)} {when}") for name in names]
    if not needed:
        return []

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        passed = True
        for name, trigger, message in needed:
            if name not in value and (trigger == () or trigger in value):
                if not report:
                    return False
                keyword = "required" if trigger == () else "dependentRequired"
                passed = fail(run, report, path, keyword, message)
        return passed

    return [((dict,), check)]


def build_unique_items(schema: dict, subschemas: Subschemas) -> Built:
    if schema.get("uniqueItems") is not True:
        return []

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        run.steps -= len(value)
        first_seen: dict[object, int] = {}
        passed = True
        for index, item in enumerate(value):
            first = first_seen.setdefault(canonical(item, run), index)
            if first != index:
                if not report:
                    return False
                message = f"is a duplicate of item {first}"
                passed = fail(run, report, path + (index,), "uniqueItems", message)
        return passed

    return [((list,), check)]


VALUE_BUILDERS = [
    build_type, build_enum, build_numbers, build_sizes, build_pattern, build_required,
    build_unique_items,
]  # fmt: skip

"""The keywords that apply subschemas (properties, items, contains, propertyNames, allOf, anyOf,
oneOf, not, if, $ref), each built once into a closure over its subschemas' checks."""

from typing import Any

from config_service.json_schema.keywords import (
    MISSING,
    VALUE_BUILDERS,
    Built,
    Subschemas,
    counted,
    fail,
    search,
    unanswered,
)
from config_service.json_schema.patterns import MAX_PATTERN_SUBJECT_LENGTH
from config_service.json_schema.violations import (
    Check,
    Path,
    Run,
    pointer,
)

NAME_TOO_LONG = (
    f"is too long a name to check against patternProperties (more than"
    f" {MAX_PATTERN_SUBJECT_LENGTH} characters)"
)


def build_members(schema: dict, subschemas: Subschemas) -> Built:
    """properties, patternProperties and additionalProperties: each member's schemas."""
    names = schema.get("properties", ())
    named = {name: subschemas.subschema("properties", name) for name in names}
    patterns = [
        (subschemas.pattern(source), subschemas.subschema("patternProperties", source))
        for source in schema.get("patternProperties", {})
    ]
    other = None
    if "additionalProperties" in schema:
        other = subschemas.subschema("additionalProperties")
    if not patterns and other is None:
        return [((dict,), _named_members(list(named.items())))] if named else []
    if not patterns:
        return [((dict,), _named_and_other_members(named, other))]  # type: ignore[arg-type]

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        passed = True
        for name, item in value.items():
            here = path + (name,)
            applied = []
            if name in named:
                applied.append(named[name])
            if patterns and len(name) > MAX_PATTERN_SUBJECT_LENGTH:
                applied.append(_fail_long_name)
            else:
                applied += [each for pattern, each in patterns if search(pattern, name, run)]
            if not applied and other is not None:
                applied.append(other)
            for each in applied:
                if not each(item, here, run, report):
                    if not report:
                        return False
                    passed = False
        return passed

    return [((dict,), check)]


def _named_members(named: list[tuple[str, Check]]) -> Check:
    """properties alone, the common case: look up each name the schema gives."""

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        passed = True
        for name, each in named:
            item = value.get(name, MISSING)
            if item is not MISSING and not each(item, path + (name,), run, report):
                if not report:
                    return False
                passed = False
        return passed

    return check


def _named_and_other_members(named: dict[str, Check], other: Check) -> Check:
    """properties and additionalProperties, no patternProperties: one lookup a member."""

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        passed = True
        for name, item in value.items():
            if not named.get(name, other)(item, path + (name,), run, report):
                if not report:
                    return False
                passed = False
        return passed

    return check


def _fail_long_name(value: Any, path: Path, run: Run, report: bool) -> bool:
    return unanswered(run, report, path, "patternProperties", NAME_TOO_LONG)


def build_property_names(schema: dict, subschemas: Subschemas) -> Built:
    if "propertyNames" not in schema:
        return []
    names = subschemas.subschema("propertyNames")

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        passed = True
        for name in value:
            here = path + (name,)
            if names(name, here, run, False):
                continue
            if not report:
                return False
            reason = _reasons([names], name, here, run).removeprefix("0: ")
            message = f"is not an allowed name: {reason}"
            fail(run, True, here, "propertyNames", message)
            passed = False
        return passed

    return [((dict,), check)]


def build_items(schema: dict, subschemas: Subschemas) -> Built:
    """prefixItems and items: a schema for each of the first items, one for the rest."""
    count = len(schema.get("prefixItems", ()))
    prefix = [subschemas.subschema("prefixItems", str(index)) for index in range(count)]
    rest = subschemas.subschema("items") if "items" in schema else None
    if not prefix and rest is None:
        return []

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        passed = True
        for index, item in enumerate(value):
            each = prefix[index] if index < len(prefix) else rest
            if each is None:
                break
            if not each(item, path + (index,), run, report):
                if not report:
                    return False
                passed = False
        return passed

    return [((list,), check)]


def build_contains(schema: dict, subschemas: Subschemas) -> Built:
    if "contains" not in schema:
        return []
    matches = subschemas.subschema("contains")
    least = int(schema.get("minContains", 1))
    most = int(schema["maxContains"]) if "maxContains" in schema else None
    least_keyword = "minContains" if "minContains" in schema else "contains"
    too_few = f"must contain at least {counted(least, 'item')} matching the schema in contains"
    too_many = f"must contain at most {counted(most or 0, 'item')} matching the schema in contains"

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        found = 0
        for index, item in enumerate(value):
            if matches(item, path + (index,), run, False):
                found += 1
                if found >= least and most is None:
                    return True
                if most is not None and found > most:
                    return fail(run, report, path, "maxContains", too_many)
        if found >= least:
            return True
        return fail(run, report, path, least_keyword, f"{too_few} (found {found})")

    return [((list,), check)]


def build_all_of(schema: dict, subschemas: Subschemas) -> Built:
    if "allOf" not in schema:
        return []
    each_of = [subschemas.subschema("allOf", str(i)) for i in range(len(schema["allOf"]))]

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        passed = True
        for each in each_of:
            if not each(value, path, run, report):
                if not report:
                    return False
                passed = False
        return passed

    return [(None, check)]


def build_any_of(schema: dict, subschemas: Subschemas) -> Built:
    if "anyOf" not in schema:
        return []
    each_of = [subschemas.subschema("anyOf", str(i)) for i in range(len(schema["anyOf"]))]

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        if any(each(value, path, run, False) for each in each_of):
            return True
        if report:
            reasons = _reasons(each_of, value, path, run)
            message = f"must match a schema in anyOf: {reasons}"
            fail(run, True, path, "anyOf", message)
        return False

    return [(None, check)]


def build_one_of(schema: dict, subschemas: Subschemas) -> Built:
    if "oneOf" not in schema:
        return []
    each_of = [subschemas.subschema("oneOf", str(i)) for i in range(len(schema["oneOf"]))]

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        matched = []
        for index, each in enumerate(each_of):
            if each(value, path, run, False):
                matched.append(index)
                if len(matched) == 2:
                    break
        if len(matched) == 1:
            return True
        if report:
            if matched:
                why = f"matches both {matched[0]} and {matched[1]}"
            else:
                why = f"matches none: {_reasons(each_of, value, path, run)}"
            message = f"must match exactly one schema in oneOf, {why}"
            fail(run, True, path, "oneOf", message)
        return False

    return [(None, check)]


def build_not(schema: dict, subschemas: Subschemas) -> Built:
    if "not" not in schema:
        return []
    negated = subschemas.subschema("not")

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        if negated(value, path, run, False):
            return fail(run, report, path, "not", "must not match the schema in not")
        return True

    return [(None, check)]


def build_conditional(schema: dict, subschemas: Subschemas) -> Built:
    """if, then, else: then and else apply as if written in place (without if, never)."""
    if "if" not in schema:
        return []
    condition = subschemas.subschema("if")
    then = subschemas.subschema("then") if "then" in schema else None
    otherwise = subschemas.subschema("else") if "else" in schema else None

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        applied = then if condition(value, path, run, False) else otherwise
        return applied is None or applied(value, path, run, report)

    return [(None, check)]


def build_reference(schema: dict, subschemas: Subschemas) -> Built:
    return [(None, subschemas.reference())] if "$ref" in schema else []


def _reasons(each_of: list[Check], value: Any, path: Path, run: Run) -> str:
    """Why each of the subschemas fails `value`: the first violation of each, in a message."""
    reasons = []
    for index, each in enumerate(each_of):
        start = len(run.violations)
        each(value, path, run, True)
        found = run.violations[start:]
        del run.violations[start:]
        if found:
            where = pointer(found[0].path[len(path) :])
            reasons.append(f"{index}: {where + ' ' if where else ''}{found[0].message}")
    return "; ".join(reasons)


BUILDERS = VALUE_BUILDERS + [
    build_members, build_property_names, build_items, build_contains, build_all_of,
    build_any_of, build_one_of, build_not, build_conditional, build_reference,
]  # fmt: skip

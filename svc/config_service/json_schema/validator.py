"""JSON Schema, a subset of draft 2020-12, compiled once into checks: compile_schema(schema)
.validate(document). A schema that uses anything outside the subset is refused whole
(UnsupportedSchema), never half understood. docs/schemas.md lists the subset and its bounds."""

from typing import Any

from config_service.json_schema.applicators import BUILDERS
from config_service.json_schema.keywords import Subschemas, accept, refuse
from config_service.json_schema.patterns import Pattern
from config_service.json_schema.violations import (
    Check,
    OutOfBudget,
    Path,
    Run,
    Unanswerable,
    UnsupportedSchema,
    Violation,
)
from config_service.json_schema.walk import Tokens, Walk, walk_schema

__all__ = ["UnsupportedSchema", "Validator", "Violation", "compile_schema"]

# A validation that reaches a value nested deeper stops there ("$depth"): it recurses per level
# and Python's stack holds about 1,000 frames.
MAX_DOCUMENT_DEPTH = 128
TOO_DEEP = f"is nested deeper than {MAX_DOCUMENT_DEPTH} levels: validation stopped here"
# Steps of about a microsecond (a subschema applied to a value, a share of a search): a validation
# that needs more stops with "$budget" instead of running for seconds.
MAX_STEPS = 200_000
# A `false` subschema's message, by the keyword it stands under.
FALSE_MESSAGES = {
    "additionalProperties": "is not allowed: the schema names no such property",
    "properties": "must not be present",
    "patternProperties": "must not be present",
    "items": "is not allowed: the array has too many items",
    "propertyNames": "no name is",
}


def compile_schema(schema: object) -> "Validator":
    """`schema` (parsed JSON: a dict or a bool) compiled, or UnsupportedSchema saying why not."""
    return Validator(_Compiler(walk_schema(schema)).root())


class Validator:
    """A compiled schema; validate() as often as wanted, from any thread."""

    __slots__ = ("_check",)

    def __init__(self, check: Check):
        self._check = check

    def validate(self, document: object, limit: int = 50) -> list[Violation]:
        """The ways `document` breaks the schema ([] if none): at most `limit`, in document
        order (members and items as they stand in it), then by keyword. A validation that would
        take more than MAX_STEPS steps, or meet a value it cannot check (violations.py
        Unanswerable), stops there and ends with a violation saying so, last."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        run = Run(MAX_STEPS)
        try:
            if self._check(document, (), run, True):
                return []
            stopped = None
        except OutOfBudget:
            message = f"validation stopped after {MAX_STEPS} steps: too costly to check"
            stopped = Violation((), "$budget", message)
        except Unanswerable as stop:
            stopped = stop.violation
        except RecursionError:  # past MAX_DOCUMENT_DEPTH's guard: many in-place links per level
            stopped = Violation((), "$depth", "validation stopped: nested too deeply to check")
        found = _in_document_order(document, run.violations)
        return found[: limit - 1] + [stopped] if stopped else found[:limit]


def _in_document_order(document: object, violations: list[Violation]) -> list[Violation]:
    unique = list(dict.fromkeys(violations))  # allOf's branches may find the same thing twice
    if len(unique) < 2:
        return unique
    # Each path's value and position (member and item indexes), built once per prefix.
    places: dict[Path, tuple[Any, tuple[int, ...]]] = {(): (document, ())}
    indexes: dict[int, dict[str, int]] = {}  # an object's member names by position, by id()

    def place(path: Path) -> tuple[Any, tuple[int, ...]]:
        if (found := places.get(path)) is None:
            parent, where = place(path[:-1])
            part = path[-1]
            if isinstance(parent, dict):
                if id(parent) not in indexes:
                    indexes[id(parent)] = {name: index for index, name in enumerate(parent)}
                found = places[path] = (parent[part], (*where, indexes[id(parent)][part]))
            else:
                found = places[path] = (parent[part], (*where, part))
        return found

    return sorted(unique, key=lambda violation: (place(violation.path)[1], violation.keyword))


def node(schema: dict, subschemas: Subschemas) -> Check:
    """The check of a schema object: one step of the budget, then each of its keywords."""
    every: list[Check] = []
    typed: dict[type, list[Check]] = {}
    for build in BUILDERS:
        for types, check in build(schema, subschemas):
            if types is None:
                every.append(check)
            for kind in types or ():
                typed.setdefault(kind, []).append(check)
    applies_to_all = tuple(every)
    by_type = {kind: tuple(checks) for kind, checks in typed.items()}
    none: tuple[Check, ...] = ()

    def check(value: Any, path: Path, run: Run, report: bool) -> bool:
        run.steps -= 1
        if run.steps < 0:
            raise OutOfBudget
        if len(path) > MAX_DOCUMENT_DEPTH:
            raise Unanswerable(Violation(path, "$depth", TOO_DEEP))
        passed = True
        for keyword in applies_to_all:
            if not keyword(value, path, run, report):
                if not report:
                    return False
                passed = False
        for keyword in by_type.get(type(value), none):
            if not keyword(value, path, run, report):
                if not report:
                    return False
                passed = False
        return passed

    return check


class _Compiler:
    """Checks for the subschemas the root reaches, each built once; a $ref goes through a slot
    filled when its target is built, so that recursive schemas work."""

    def __init__(self, walk: Walk):
        self.schemas, self.patterns, self.targets = walk.schemas, walk.patterns, walk.targets
        self.checks: dict[Tokens, Check] = {}
        self.slots: dict[Tokens, list[Check]] = {}

    def root(self) -> Check:
        root = self.check((), "false")
        while empty := [target for target, slot in self.slots.items() if not slot]:
            for target in empty:
                self.slots[target].append(self.check(target, "$ref"))
        return root

    def check(self, tokens: Tokens, keyword: str) -> Check:
        schema = self.schemas[tokens][0]
        if isinstance(schema, bool):
            message = FALSE_MESSAGES.get(keyword, "is not allowed here: the schema is false")
            return accept if schema else refuse(keyword, message)
        if tokens not in self.checks:
            self.checks[tokens] = node(schema, _Subschemas(self, tokens))
        return self.checks[tokens]

    def reference(self, tokens: Tokens) -> Check:
        target = self.targets[tokens]
        if isinstance(self.schemas[target][0], bool):
            return self.check(target, "$ref")
        slot = self.slots.setdefault(target, [])

        def check(value: Any, path: Path, run: Run, report: bool) -> bool:
            return slot[0](value, path, run, report)

        return check


class _Subschemas:
    """What the keyword builders see of the compiler, relative to one schema object."""

    __slots__ = ("compiler", "tokens")

    def __init__(self, compiler: _Compiler, tokens: Tokens):
        self.compiler, self.tokens = compiler, tokens

    def subschema(self, *parts: str) -> Check:
        return self.compiler.check(self.tokens + parts, parts[0])

    def reference(self) -> Check:
        return self.compiler.reference(self.tokens)

    def pattern(self, source: str) -> Pattern:
        return self.compiler.patterns[source]

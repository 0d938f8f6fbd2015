"""A schema read before it is compiled: bounded in size and depth, every keyword one of the
supported subset (VOCABULARY) with a value of the right kind, every $ref resolved within the
schema, and no cycle of subschemas that would never consume input. Annotations are checked for
their type, then ignored. Every problem found is reported, not just the first."""

import math
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urljoin

from config_service.json_schema.keywords import PYTHON_TYPES, shown
from config_service.json_schema.patterns import (
    Pattern,
    PatternError,
    compile_pattern,
)
from config_service.json_schema.violations import (
    Path,
    UnsupportedSchema,
    Violation,
    pointer,
)

# Every JSON value in a schema counts: bounds the time and memory a compile takes.
MAX_SCHEMA_NODES = 10_000
# Levels of JSON nesting in a schema: reading and compiling recurse per level.
MAX_SCHEMA_DEPTH = 64
# Subschemas applied to one value through one another ($ref, allOf, anyOf, oneOf, not, if, then,
# else): validating recurses per link, and a cycle of them would never end.
MAX_IN_PLACE_CHAIN = 64
# Members of one enum: a longer list is a data set, better kept out of a schema.
MAX_ENUM_VALUES = 1_000
DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Keywords that hold subschemas: one, a non-empty array of them, or an object of them.
SCHEMA, SCHEMAS, SCHEMA_MAP = "schema", "schemas", "schema map"
Rule = Callable[[object], str | None]  # what is wrong with a keyword's value, or None
IN_PLACE = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else")
Tokens = tuple[str, ...]  # where a subschema is, as the tokens of a JSON pointer


def walk_schema(schema: object) -> "Walk":
    """`schema` read whole, or UnsupportedSchema with every problem found."""
    _check_size(schema)
    walk = Walk()
    walk.schema(schema, (), (), "", base="")
    walk.resolve()
    if not walk.problems:
        walk.check_in_place_chains()
    if walk.problems:
        raise UnsupportedSchema(walk.problems)
    return walk


def _check_size(schema: object) -> None:
    """MAX_SCHEMA_NODES and MAX_SCHEMA_DEPTH, without recursing: checked before anything else."""
    pending: list[tuple[object, Path]] = [(schema, ())]
    count = 0
    while pending:
        value, path = pending.pop()
        count += 1
        if count > MAX_SCHEMA_NODES:
            message = f"schema too large: more than {MAX_SCHEMA_NODES} JSON values"
            raise UnsupportedSchema([Violation((), "$size", message)])
        if isinstance(value, dict | list):
            if len(path) >= MAX_SCHEMA_DEPTH:
                message = f"schema nested too deeply: more than {MAX_SCHEMA_DEPTH} levels"
                raise UnsupportedSchema([Violation(path, "$depth", message)])
            members = value.items() if isinstance(value, dict) else enumerate(value)
            pending.extend((member, path + (key,)) for key, member in members)
        elif not isinstance(value, str | int | float) and value is not None:
            message = f"not JSON: a {type(value).__name__}"
            raise UnsupportedSchema([Violation(path, "", message)])


class Walk:
    """One pass over a schema: every subschema by where it is, the problems, the patterns
    compiled, the resources ($id) and where each $ref points."""

    def __init__(self) -> None:
        self.schemas: dict[Tokens, tuple[object, Path]] = {}
        self.problems: list[Violation] = []
        self.patterns: dict[str, Pattern] = {}
        self.references: dict[Tokens, tuple[str, Path, str]] = {}  # with the base URI there
        self.resources: dict[str, Tokens] = {}  # by base URI: "" for a root without $id
        self.targets: dict[Tokens, Tokens] = {}  # where the $ref of a subschema points

    def schema(self, schema: object, tokens: Tokens, path: Path, keyword: str, base: str) -> None:
        self.schemas[tokens] = (schema, path)
        if isinstance(schema, bool):
            return
        if not isinstance(schema, dict):
            self.problem(path, keyword, "must be a schema: an object, true or false")
            return
        if isinstance(schema.get("$id"), str):
            base = _join(base, schema["$id"])
            if "#" in base.rstrip("#"):
                self.problem(path + ("$id",), "$id", "$id must not have a fragment")
            elif self.resources.setdefault(base.rstrip("#"), tokens) != tokens:
                self.problem(path + ("$id",), "$id", "$id names two subschemas")
        if tokens == ():
            self.resources.setdefault(base.rstrip("#"), tokens)
        for name, value in schema.items():
            self.keyword(name, value, tokens, path + (name,), base)

    def keyword(self, keyword: str, value: Any, tokens: Tokens, path: Path, base: str) -> None:
        rule = VOCABULARY.get(keyword)
        if rule is None:
            self.problem(path, keyword, f"unknown keyword {shown(keyword)}")
        elif rule is SCHEMA:
            self.schema(value, tokens + (keyword,), path, keyword, base)
        elif rule is SCHEMAS:
            if not isinstance(value, list) or not value:
                self.problem(path, keyword, f"{keyword} must be a non-empty array of schemas")
                return
            for index, member in enumerate(value):
                here = tokens + (keyword, str(index))
                self.schema(member, here, path + (index,), keyword, base)
        elif rule is SCHEMA_MAP:
            if not isinstance(value, dict):
                self.problem(path, keyword, f"{keyword} must be an object of schemas")
                return
            for name, member in value.items():
                if keyword == "patternProperties":
                    self.pattern(name, path + (name,), keyword, f"{keyword} {shown(name)}")
                self.schema(member, tokens + (keyword, name), path + (name,), keyword, base)
        elif message := rule(value):
            self.problem(path, keyword, f"{keyword} {message}")
        elif keyword == "pattern":
            self.pattern(value, path, keyword, "pattern")
        elif keyword == "$ref":
            self.references[tokens] = (value, path, base)

    def pattern(self, source: str, path: Path, keyword: str, named: str) -> None:
        if source not in self.patterns:
            try:
                self.patterns[source] = compile_pattern(source)
            except PatternError as error:
                self.problem(path, keyword, f"{named} is {error}")

    def problem(self, path: Path, keyword: str, message: str) -> None:
        self.problems.append(Violation(path, keyword, message))

    def resolve(self) -> None:
        """Where each $ref points: a resource of this same schema (its root, or a subschema with
        an $id), then a JSON pointer within it; never anywhere else."""
        for tokens, (reference, path, base) in self.references.items():
            resource, _, fragment = _join(base, reference).partition("#")
            fragment = unquote(fragment)  # a URI fragment is percent-encoded (RFC 6901 §6)
            if resource not in self.resources:
                message = "remote $ref is not supported: only this schema and its $ids are known"
            elif fragment and not fragment.startswith("/"):
                message = "$ref to an anchor is not supported: only #/… JSON pointers are"
            else:
                parts = fragment.split("/")[1:]
                within = tuple(part.replace("~1", "/").replace("~0", "~") for part in parts)
                if (target := self.resources[resource] + within) in self.schemas:
                    self.targets[tokens] = target
                    continue
                message = f"$ref {shown(reference)} points at no schema in this document"
            self.problem(path, "$ref", message)

    def check_in_place_chains(self) -> None:
        """Refuse a cycle of subschemas applied to the same value (it would never end), and
        chains longer than MAX_IN_PLACE_CHAIN; depth first, without recursing."""
        links: dict[Tokens, list[Tokens]] = {}
        for tokens, (schema, _) in self.schemas.items():
            if isinstance(schema, dict):
                links[tokens] = [tokens + (k,) for k in IN_PLACE[3:] if k in schema]
                for keyword in IN_PLACE[:3]:
                    count = len(schema.get(keyword, ()))
                    links[tokens] += [tokens + (keyword, str(index)) for index in range(count)]
                links[tokens] += [self.targets[tokens]] if tokens in self.targets else []
        chain: dict[Tokens, int] = {}  # 0 while on the path walked, then the longest chain
        for start in links:
            if start in chain:
                continue
            stack, chain[start] = [(start, iter(links[start]))], 0
            while stack:
                tokens, following = stack[-1]
                after = next(following, None)
                if after is None:
                    stack.pop()
                    chain[tokens] = 1 + max((chain[each] for each in links[tokens]), default=0)
                    if chain[tokens] > MAX_IN_PLACE_CHAIN:
                        message = f"more than {MAX_IN_PLACE_CHAIN} subschemas apply in a chain"
                        return self.problem(self.schemas[tokens][1], "$depth", message)
                elif chain.get(after) == 0:
                    return self.cycle([each for each, _ in stack], after)
                elif after not in chain and after in links:
                    chain[after] = 0
                    stack.append((after, iter(links[after])))
                else:
                    chain.setdefault(after, 1)  # true or false: a chain of one

    def cycle(self, walked: list[Tokens], back_to: Tokens) -> None:
        cycle = walked[walked.index(back_to) :] + [back_to]
        # only a $ref leads anywhere but deeper into the schema: one closes the cycle
        where = next(a for a, b in zip(cycle, cycle[1:], strict=False) if self.targets.get(a) == b)
        shown_cycle = " → ".join("#" + pointer(each) for each in cycle)
        message = f"$ref cycle that never consumes input: {shown_cycle}"
        self.problem(self.schemas[where][1] + ("$ref",), "$ref", message)


def _join(base: str, reference: str) -> str:
    """`reference` resolved against the base URI `base` (RFC 3986), "" being this document."""
    if reference.startswith("#"):
        return base.partition("#")[0] + reference
    return urljoin(base, reference) if base else reference


def _number(value: Any) -> str | None:
    finite = type(value) is int or (type(value) is float and math.isfinite(value))
    return None if finite else "must be a number"


def _positive(value: Any) -> str | None:
    return _number(value) or (None if value > 0 else "must be greater than 0")


def _count(value: Any) -> str | None:
    whole = type(value) is int or (type(value) is float and value.is_integer())
    return None if whole and value >= 0 else "must be a non-negative integer"


def _of_type(*kinds: type, message: str) -> Rule:
    return lambda value: None if type(value) in kinds else message


def _strings(value: Any) -> str | None:
    if not isinstance(value, list) or not all(type(each) is str for each in value):
        return "must be an array of unique strings"
    unique = len(set(value)) == len(value)
    return None if unique else "must be an array of unique strings"


def _type_names(value: Any) -> str | None:
    names = [value] if isinstance(value, str) else value
    if isinstance(names, list) and names and not _strings(names):
        if set(names) <= PYTHON_TYPES.keys():
            return None
    return f"must be one of {', '.join(PYTHON_TYPES)}, or a non-empty array of them"


def _enum(value: Any) -> str | None:
    if not isinstance(value, list):
        return "must be an array"
    return f"has more than {MAX_ENUM_VALUES} values" if len(value) > MAX_ENUM_VALUES else None


def _dependent_required(value: Any) -> str | None:
    valid = isinstance(value, dict) and not any(map(_strings, value.values()))
    return None if valid else "must be an object of arrays of unique strings"


_string = _of_type(str, message="must be a string")
_boolean = _of_type(bool, message="must be true or false")
VOCABULARY: dict[str, str | Rule] = {
    **dict.fromkeys(("properties", "patternProperties", "$defs"), SCHEMA_MAP),
    **dict.fromkeys(("prefixItems", "allOf", "anyOf", "oneOf"), SCHEMAS),
    **dict.fromkeys(("additionalProperties", "propertyNames", "items", "contains"), SCHEMA),
    **dict.fromkeys(("not", "if", "then", "else"), SCHEMA),
    **dict.fromkeys(("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"), _number),
    **dict.fromkeys(("minLength", "maxLength", "minItems", "maxItems"), _count),
    **dict.fromkeys(("minProperties", "maxProperties", "minContains", "maxContains"), _count),
    "multipleOf": _positive, "type": _type_names, "enum": _enum, "const": lambda value: None,
    "pattern": _string, "uniqueItems": _boolean, "required": _strings, "$ref": _string,
    "dependentRequired": _dependent_required,
    # annotations: checked for their type, then ignored
    "$schema": lambda value: None if value in (DIALECT, DIALECT + "#") else f"must be {DIALECT}",
    **dict.fromkeys(("$id", "$comment", "title", "description", "format"), _string),
    **dict.fromkeys(("contentMediaType", "contentEncoding"), _string),
    **dict.fromkeys(("deprecated", "readOnly", "writeOnly"), _boolean),
    "default": lambda value: None, "examples": _of_type(list, message="must be an array"),
}  # fmt: skip

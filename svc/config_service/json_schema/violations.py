"""The JSON Schema validator's plain values, shared by its modules: a violation, the refusal of a
schema, and one validation's running state. Imports nothing of the service."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule broken: by a document (path into the document) or by a schema (path into it)."""

    path: Path  # a JSON pointer's parts: object member names and array indices
    keyword: str  # the keyword that failed ("minimum"), or "$budget", "$depth", "$size"
    message: str  # what a person can act on: 'must be >= 1', '"pool_size" is required'


class UnsupportedSchema(Exception):
    """The schema is refused; `problems` say where in the schema and why."""

    def __init__(self, problems: list[Violation]):
        self.problems = problems
        shown = "; ".join(f"{pointer(problem.path)}: {problem.message}" for problem in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        super().__init__(f"unsupported schema: {shown}{more}")


class OutOfBudget(Exception):
    """A validation used up its steps (json_schema.MAX_STEPS) and stops where it stands."""


class Unanswerable(Exception):
    """A validation met a value it cannot check (nested too deeply, a string too long for a
    pattern) where it could not simply report it: under `not`, `anyOf` and the like, a failure
    could turn into a pass. It stops there, with `violation` saying why."""

    def __init__(self, violation: Violation):
        super().__init__(violation)
        self.violation = violation


class Run:
    """One validation's state: the violations found so far and the steps it may still take."""

    __slots__ = ("steps", "violations")

    def __init__(self, steps: int):
        self.steps = steps
        self.violations: list[Violation] = []


# check(value, path, run, report) -> whether `value` passes. With report, every failure is added
# to run.violations; without it, the first failure returns False and no message is built.
Check = Callable[[Any, Path, Run, bool], bool]


def pointer(path: Path) -> str:
    """`path` as a JSON pointer (RFC 6901): /pools/0/size."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)

"""What differs between two JSON documents, as JSON paths: added, removed, changed."""

import json
import re
from typing import Any, NamedTuple

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Difference(NamedTuple):
    kind: str  # "added", "removed" or "changed"
    path: str  # e.g. $.database.hosts[0]
    old: Any = None
    new: Any = None

    def __str__(self) -> str:
        if self.kind == "added":
            return f"added   {self.path}: {dump(self.new)}"
        if self.kind == "removed":
            return f"removed {self.path}: {dump(self.old)}"
        return f"changed {self.path}: {dump(self.old)} -> {dump(self.new)}"


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def same(old: Any, new: Any) -> bool:
    """JSON equality: 1 and 1.0 are one number, but true is not 1 and "1" is not 1."""
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        return old == new
    if type(old) is not type(new):
        return False
    if isinstance(old, dict):
        return old.keys() == new.keys() and all(same(old[key], new[key]) for key in old)
    if isinstance(old, list):
        return len(old) == len(new) and all(map(same, old, new))
    return old == new


def member(path: str, key: str) -> str:
    return f"{path}.{key}" if IDENTIFIER.fullmatch(key) else f"{path}[{json.dumps(key)}]"


def differences(old: Any, new: Any, path: str = "$") -> list[Difference]:
    """Every difference from `old` to `new`: objects and arrays compared member by member."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(old.keys() | new.keys()):
            if key not in new:
                found.append(Difference("removed", member(path, key), old=old[key]))
            elif key not in old:
                found.append(Difference("added", member(path, key), new=new[key]))
            else:
                found += differences(old[key], new[key], member(path, key))
        return found
    if isinstance(old, list) and isinstance(new, list):
        found = []
        for index in range(max(len(old), len(new))):
            here = f"{path}[{index}]"
            if index >= len(new):
                found.append(Difference("removed", here, old=old[index]))
            elif index >= len(old):
                found.append(Difference("added", here, new=new[index]))
            else:
                found += differences(old[index], new[index], here)
        return found
    return [] if same(old, new) else [Difference("changed", path, old, new)]

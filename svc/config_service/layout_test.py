"""The shape of the package: layers that import only downwards, no import cycle, at most a dozen
modules at the top, and modules a few screens long."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent
# Modules allowed past MAX_LINES, each with the reason.
LONG_MODULES: dict[str, str] = {}
MAX_LINES = 300
MAX_TOP_MODULES = 12

# The shared vocabulary: plain values and messages that every layer may use.
VOCABULARY = {"errors", "keys", "representation", "fields", "reads", "settings", "messages"}
# What each layer may import besides itself and the vocabulary (each package's docstring says
# the same). The composition root (main, bus, health) and the process may import anything.
MAY_IMPORT: dict[str, set[str]] = {
    "vocabulary": {"access"},
    "access": set(),
    "json_schema": set(),
    "telemetry": set(),
    "store": {"telemetry"},
    "read_model": {"access", "telemetry", "store"},
    "http": {"access", "telemetry", "bus"},
    "applications": {"access", "telemetry", "store", "http", "bus"},
    "configurations": {"access", "telemetry", "store", "http", "bus", "json_schema"},
}


def modules() -> dict[str, Path]:
    """Every module of the package except tests, by dotted name."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name.endswith("_test.py"):
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The package's modules `path` imports anywhere: at the top, in functions, under
    TYPE_CHECKING (ast.walk sees them all)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name in known}


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules along it, or None."""
    state: dict[str, str] = {}  # "open" while on the path, "done" after

    def visit(name: str, path: list[str]) -> list[str] | None:
        state[name] = "open"
        for imported in sorted(graph[name]):
            if state.get(imported) == "open":
                return [*path[path.index(imported) :], imported]
            if imported not in state and (found := visit(imported, [*path, imported])):
                return found
        state[name] = "done"
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name, [name])):
            return found
    return None


def test_no_module_imports_itself_back_by_any_road():
    known = modules()
    graph = {name: imports_of(path, set(known)) - {name} for name, path in known.items()}
    assert "config_service.reads" in graph["config_service.messages"]  # the walk sees imports
    assert cycle(graph) is None


def layer_of(module: str) -> str:
    """`http` for config_service.http.problems, `vocabulary` for config_service.keys, and the
    module's own name for the rest of the top (main, bus, health)."""
    parts = module.split(".")
    if len(parts) == 1:
        return "vocabulary"  # `from config_service import keys`: the package's empty __init__
    if len(parts) > 2:
        return parts[1]
    return "vocabulary" if parts[-1] in VOCABULARY else parts[-1]


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every `a -> b` where a's layer may not import b's."""
    found = []
    for name, imported in sorted(graph.items()):
        layer = layer_of(name)
        if layer not in MAY_IMPORT:
            continue
        allowed = MAY_IMPORT[layer] | {layer, "vocabulary"}
        found += [
            f"{name} -> {other}" for other in sorted(imported) if layer_of(other) not in allowed
        ]
    return found


def test_every_layer_imports_only_what_its_docstring_allows():
    known = modules()
    graph = {name: imports_of(path, set(known)) for name, path in known.items()}
    assert "config_service.store.database" in graph["config_service.read_model.listener"]
    assert upward_imports(graph) == []


def test_an_upward_import_is_found():
    graph = {"config_service.store.database": {"config_service.http.problems"}}
    assert upward_imports(graph) == [
        "config_service.store.database -> config_service.http.problems"
    ]


def test_the_top_holds_only_the_composition_root_and_the_vocabulary():
    top = [path for path in PACKAGE.glob("*.py") if not path.name.endswith("_test.py")]
    assert len(top) - 1 <= MAX_TOP_MODULES, sorted(path.name for path in top)  # less __init__
    assert {path.stem for path in top} <= VOCABULARY | {"__init__", "main", "bus", "health"}


def test_every_package_says_what_it_may_import():
    for init in PACKAGE.glob("*/__init__.py"):
        assert "import" in init.read_text(), f"{init.parent.name}'s docstring says nothing of it"


def test_a_cycle_is_found_when_there_is_one():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_every_module_is_a_few_screens_long_or_says_why():
    long = {
        name: len(path.read_text().splitlines())
        for name, path in modules().items()
        if len(path.read_text().splitlines()) > MAX_LINES
    }
    assert set(long) <= set(LONG_MODULES), long

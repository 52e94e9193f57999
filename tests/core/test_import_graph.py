"""The dependency graph of ``portal/`` stays a graph without cycles (issue #10).

Low modules (models, the operations event log, access rules) know nothing of the areas;
``portal/operations/lifecycle.py`` sits on top and starts what a transition needs. A
function-level import is a way to hide a cycle, so only the app factory may use one (to
register the blueprints' routes), and no module but the factory imports a views module:
code shared by views lives in ``context.py`` modules.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "portal"
FACTORY = "portal"  # portal/__init__.py: create_app imports the views to register them


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The portal module that importing ``name`` loads (a module, or its package)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> list[tuple[str, bool]]:
    """``(imported portal module, inside a function?)`` for every import of ``module``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    nested = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # ``from pkg import sub`` imports the submodule when there is one.
            targets = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            resolved = _resolve(target) if target.startswith("portal") else None
            if resolved and resolved != module:
                found.append((resolved, id(node) in nested))
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(edges.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return components


def _is_views(module: str) -> bool:
    return module.rpartition(".")[2].endswith("views")


def test_the_graph_is_read_from_the_whole_package():
    """The walker sees the modules it must judge (guards against a vacuous pass)."""
    assert {"portal.operations.lifecycle", "portal.operations.events"} <= MODULES.keys()
    assert ("portal.design.services", False) in GRAPH["portal.operations.lifecycle"]
    assert ("portal.operations.events", False) in GRAPH["portal.design.services"]


def test_no_import_cycle_between_modules():
    """Function-level imports count too: hiding an import in a function hides no cycle."""
    edges = {module: {target for target, _nested in found} for module, found in GRAPH.items()}
    assert _cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != FACTORY))
def test_no_function_level_import_of_the_portal(module):
    """Only the app factory imports inside a function (it registers the routes)."""
    assert [target for target, nested in GRAPH[module] if nested] == []


def test_no_module_imports_a_views_module():
    """Views share code through ``context.py`` modules, never through another views module."""
    offenders = sorted(
        (module, target)
        for module, found in GRAPH.items()
        if module != FACTORY
        for target, _nested in found
        if _is_views(target)
    )
    assert offenders == []

"""The tests' own layout: helpers come from tests/support.py and the factories modules, never
from a test module or a conftest.py (importing a test module runs its fixtures' and tests'
definitions twice, and hides where a shared helper lives)."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def test_no_module_of_the_tests_imports_a_test_module_or_a_conftest():
    wrong = []
    for path in sorted(TESTS.rglob("*.py")):
        for module in _imported_modules(path):
            last = module.rsplit(".", 1)[-1]
            if module.startswith("tests.") and (last.startswith("test_") or last == "conftest"):
                wrong.append(f"{path.relative_to(TESTS.parent)} imports {module}")
    assert wrong == []

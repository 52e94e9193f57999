"""``htmx.render(page, fragment, status, /, **context)``: the HTTP status is positional.

A ``status=`` keyword is silently template context (the answer is a 200): a failed form
re-rendered that way would look like a success to htmx. Every call site is read here.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "portal"


def _keyword_status_calls() -> list[str]:
    found = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "render"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "htmx"
                and any(keyword.arg == "status" for keyword in node.keywords)
            ):
                found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}")
    return found


def test_no_call_passes_the_http_status_as_a_keyword():
    assert _keyword_status_calls() == []


def test_the_walker_sees_the_calls():
    calls = sum(
        1
        for path in ROOT.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "render"
        and getattr(node.func.value, "id", "") == "htmx"
    )
    assert calls > 10

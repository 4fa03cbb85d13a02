"""The layers as the imports draw them: forum/ops (backup, restore, the demo) runs beside the
product and may use any of it, but nothing of the product imports from it. And the house's
limits: modules a reader can take in at once, handlers that only parse, call and answer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FORUM = Path(__file__).resolve().parent.parent / "forum"


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


PRODUCT = sorted(p for p in FORUM.rglob("*.py") if "ops" not in p.relative_to(FORUM).parts)


@pytest.mark.parametrize("path", PRODUCT, ids=lambda p: str(p.relative_to(FORUM)))
def test_the_product_never_imports_the_tools(path):
    tools = {
        name for name in imported(path) if name == "forum.ops" or name.startswith("forum.ops.")
    }
    assert not tools, f"{path.relative_to(FORUM)} imports {sorted(tools)}"


def test_the_tools_are_where_the_layout_says():
    assert {str(p.relative_to(FORUM / "ops")) for p in (FORUM / "ops").rglob("*.py")} == {
        "__init__.py",
        "backup.py",
        "restore.py",
        "restore_sqlite.py",
        "commands.py",
        "demo/__init__.py",
        "demo/command.py",
        "demo/loading.py",
        "demo/timeline.py",
        "demo/year.py",
        "demo/discussions.py",
        "demo/cases.py",
        "demo/bulk.py",
        "demo/words/__init__.py",
        "demo/words/people.py",
        "demo/words/forum.py",
        "demo/words/consultations.py",
        "demo/words/letters.py",
        "demo/words/tax.py",
        "demo/words/hotline.py",
        "demo/words/bulk.py",
    }
    assert len(PRODUCT) > 50


HANDLER_METHODS = {"get", "post", "put", "patch", "delete", "head"}


def test_no_module_of_the_product_is_over_600_lines():
    long = {
        str(path.relative_to(FORUM)): count
        for path in FORUM.rglob("*.py")
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}


def test_no_handler_method_is_over_25_lines():
    long = []
    for path in (FORUM / "web").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                long += [
                    f"{path.name} {node.name}.{method.name}: {method.end_lineno - method.lineno + 1}"
                    for method in node.body
                    if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and method.name in HANDLER_METHODS
                    and method.end_lineno - method.lineno + 1 > 25
                ]
    assert long == []

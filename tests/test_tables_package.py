"""The shape of `assistant/tables/`: small modules and functions, and imports that run one way."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "assistant" / "tables"
# Lower layers first; a module imports only from its own layer or below.
LAYERS = [
    {"numbers", "lines", "format", "similarity", "vocabulary"},
    {"labels"},
    {"headings", "rows", "value_tokens", "prose_figures"},
    {"tabbed", "spaced", "lists", "indicators", "bullet_targets"},
    {"prose"},
    {"extract"},
    {"store"},
    {"matcher"},
    {"cli"},
]


def _modules():
    return {p.stem: ast.parse(p.read_text(encoding="utf-8")) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}


def test_every_module_has_a_layer():
    assert set(_modules()) == set().union(*LAYERS)


def test_modules_and_functions_are_small():
    for p in PACKAGE.glob("*.py"):
        text = p.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 500, p.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno - node.lineno + 1 <= 60, f"{p.name}: {node.name}"


def test_imports_run_one_way():
    layer = {name: i for i, names in enumerate(LAYERS) for name in names}
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                target = (node.module or "").split(".")[0]
                assert target and layer[target] <= layer[name], f"{name} imports {target}"
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                assert node.module not in ("tables", "chat", "answer", "ui"), f"{name} imports ..{node.module}"

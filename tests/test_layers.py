"""The floor plan of docs/architecture.md, held against the code's own imports.

Read from the source text (every `import`, including those inside functions), so a layer
broken by a lazy import is caught too. A newcomer who adds a module sees here, in one
failure line, which rule it breaks and where the module belongs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("core", "ask", "bot", "ingest", "buildtools", "testing")
# The benches sit on no floor (they may import anything of ours), but stay small too.
SIZED = (*PRODUCT, "bench")

# Floors from the top down, each a list of groups (a group: module-name prefixes). A module
# may import from its own group and from any group on a lower floor; nothing imports from a
# higher floor, and groups on one floor (the edges) do not import each other.
FLOORS: list[list[tuple[str, ...]]] = [
    [("testing",)],
    [("bot",), ("ingest",), ("ask",)],
    [("buildtools",)],
    [("core.service", "core.retriever")],
    [("core.written",)],
    [("core.answer",)],
    [("core.search",)],
    [("core.store",)],
    [("core.encode",)],
    [("core.language",)],
    [("core", "core.errors", "core.models", "core.settings", "core.sections", "core.console")],
]
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []:
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _group(module: str) -> tuple[str, ...]:
    """The group of FLOORS that holds `module` (by its longest matching prefix)."""
    best: tuple[int, tuple[str, ...]] | None = None
    for floor in FLOORS:
        for group in floor:
            for prefix in group:
                if (module == prefix or module.startswith(prefix + ".")) and (
                    best is None or len(prefix) > best[0]
                ):
                    best = (len(prefix), group)
    if best is None:
        raise AssertionError(f"{module} is on no floor of tests/test_layers.py: add it there")
    return best[1]


def _floor(group: tuple[str, ...]) -> int:
    return next(i for i, floor in enumerate(FLOORS) if group in floor)


def _imports(module: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for each import of ours in `module`."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [a.name for a in node.names]
            # `from core.search import replica` names a module, not a name in a module.
            subs = [n for n in names if f"{base}.{n}" in MODULES]
            found += [(f"{base}.{n}", [], node.lineno) for n in subs]
            rest = [n for n in names if n not in subs]
            if rest:
                found.append((base, rest, node.lineno))
    return [(m, n, line) for m, n, line in found if m.split(".")[0] in PRODUCT]


def test_every_module_sits_on_a_floor_and_imports_only_downwards() -> None:
    """A new module that reaches up a floor (the core importing the bot) is named here."""
    wrong = []
    for module in MODULES:
        group = _group(module)
        for target, _, line in _imports(module):
            other = _group(target)
            if other != group and _floor(other) <= _floor(group):
                wrong.append(f"{MODULES[module].relative_to(ROOT)}:{line} -> {target}")
    assert not wrong, "imports that do not go down a floor:\n" + "\n".join(wrong)


def test_no_module_takes_another_modules_private_names() -> None:
    """A shared name is public: `from x import _y` ties two modules' insides together."""
    wrong = [
        f"{MODULES[module].relative_to(ROOT)}:{line} {target}: {', '.join(private)}"
        for module in MODULES
        for target, names, line in _imports(module)
        if target != module and (private := [n for n in names if n.startswith("_")])
    ]
    assert not wrong, "private names taken from another module:\n" + "\n".join(wrong)


def test_no_import_loops() -> None:
    """Two modules that import each other cannot be understood, or moved, one at a time."""
    graph = {m: {t for t, _, _ in _imports(m) if t in MODULES and t != m} for m in MODULES}
    # A package's __init__ is imported by its modules' import machinery, not by choice.
    graph = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    loops = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                loops.append(" <-> ".join(sorted(component)))

    for module in graph:
        if module not in index:
            visit(module)
    assert not loops, "modules that import each other:\n" + "\n".join(loops)


@pytest.mark.parametrize("package", SIZED)
def test_modules_stay_small(package: str) -> None:
    """A module over 400 lines holds more than one concern: split it by what it owns."""
    long = [
        f"{path.relative_to(ROOT)}: {n} lines"
        for path in sorted((ROOT / package).rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) >= MAX_LINES
    ]
    assert not long, "modules of 400 lines or more:\n" + "\n".join(long)

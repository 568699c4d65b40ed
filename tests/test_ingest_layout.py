"""The ingest package reads as a set of small modules, none reaching into another's privates."""

from __future__ import annotations

import ast
from pathlib import Path

INGEST = Path(__file__).resolve().parent.parent / "ingest"


def _imports(path: Path) -> list[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    ]


def test_no_ingest_module_imports_the_cli_or_a_private_name_of_another() -> None:
    """A maintainer can change one ingest module's internals without breaking another."""
    found = [
        (path.name, module, name)
        for path in sorted(INGEST.glob("*.py"))
        for module, name in _imports(path)
        if module.startswith(("ingest", "core"))
        and (name.startswith("_") or module == "ingest.__main__")
    ]
    assert found == []


def test_every_ingest_module_stays_under_400_lines() -> None:
    """Each ingest module holds one concern, short enough to read in one sitting."""
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in INGEST.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n >= 400} == {}

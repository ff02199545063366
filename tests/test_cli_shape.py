"""The CLI's shape: one module per verb group, ``main`` only assembles, shared helpers import no verb (no cycles)."""

from __future__ import annotations

import ast
from pathlib import Path

import trajkit.cli

CLI = Path(trajkit.cli.__file__).parent
HELPERS = {"_common", "_evaluation", "summary", "__init__"}


def _local_imports(path: Path) -> set[str]:
    """Modules of ``trajkit.cli`` that ``path`` imports (``from .x import``, ``from . import x``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                names.add(node.module.split(".")[0])
            else:
                names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("trajkit.cli."):
            names.add(node.module.split(".")[2])
    return names


def test_verbs_import_only_helpers_and_main_imports_every_verb() -> None:
    modules = {p.stem: p for p in CLI.glob("*.py")}
    verbs = set(modules) - HELPERS - {"main"}
    assert {"files", "tracks", "camera", "bridge", "viz", "generate", "director", "measure", "evaluate",
            "studio"} <= verbs
    for name in verbs | HELPERS:
        imported = _local_imports(modules[name])
        assert not imported - HELPERS, f"cli/{name}.py imports {sorted(imported - HELPERS)}"
    assert verbs <= _local_imports(modules["main"])


def test_main_only_assembles() -> None:
    tree = ast.parse((CLI / "main.py").read_text())
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert set(functions) <= {"_version", "_root", "main"}, functions
    assert len((CLI / "main.py").read_text().splitlines()) < 120

"""core/deadlines is pure domain code: the standard library, `holidays` and core only."""

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "core" / "deadlines"
ALLOWED = set(sys.stdlib_module_names) | {"holidays", "core"}


def test_core_deadlines_imports_nothing_from_the_outside_world() -> None:
    imported: set[tuple[str, str]] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {(path.name, alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add((path.name, node.module))
    outside = {(name, module) for name, module in imported if module.split(".")[0] not in ALLOWED}
    assert outside == set()
    assert any(module == "holidays" for _, module in imported)  # the walk did see imports

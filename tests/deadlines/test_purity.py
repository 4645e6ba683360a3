"""core/deadlines is pure domain code: the standard library, `holidays` and core only."""

import ast
import subprocess
import sys
import textwrap
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


def test_israels_holidays_import_israel_alone() -> None:
    """`holidays` imported its 250 countries for Israel's days (8 MB in each bot process);
    the calendar imports Israel's module only, and its days are the package's own."""
    code = textwrap.dedent(
        """
        import sys
        from datetime import date
        from core.deadlines.calendar import holiday_name, is_chol_hamoed
        print(holiday_name(date(2026, 9, 12)), is_chol_hamoed(date(2026, 4, 5)))
        print(sorted(m for m in sys.modules if m.startswith("holidays.countries.")))
        import holidays
        print(holidays.country_holidays("IL", years=2026).get(date(2026, 9, 12)))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PACKAGE.parents[1],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == [
        "Rosh Hashanah True",
        "['holidays.countries.israel']",
        "Rosh Hashanah",
    ]

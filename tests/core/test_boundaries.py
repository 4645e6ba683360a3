"""core/ knows no framework: it must stay importable without the bot, the ORM or the OCR."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core"
FORBIDDEN = {
    "aiogram",
    "sqlalchemy",
    "fastapi",
    "apscheduler",
    "pytesseract",
    "alembic",
    "uvicorn",
    "aiohttp",
    "storage",
    "handlers",
    "bot",
}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize(
    "path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE))
)
def test_core_module_imports_no_framework(path: Path) -> None:
    assert imported_roots(path) & FORBIDDEN == set()

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


HANDLERS = CORE.parent / "handlers"
# Handlers translate Telegram to use cases: they reach storage through `core.ports` and
# settings as dispatcher data, so neither the ORM nor the bot's wiring is theirs to import.
HANDLERS_FORBIDDEN = {"storage", "bot"}


@pytest.mark.parametrize(
    "path", sorted(HANDLERS.rglob("*.py")), ids=lambda p: str(p.relative_to(HANDLERS))
)
def test_handler_module_imports_neither_storage_nor_bot(path: Path) -> None:
    assert imported_roots(path) & HANDLERS_FORBIDDEN == set()


def test_the_rule_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    # A late import (inside a function, under TYPE_CHECKING) is still an import.
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from storage.uow import SqlUnitOfWork\n")
    assert imported_roots(module) & HANDLERS_FORBIDDEN == {"storage"}

"""core/ knows no framework: it must stay importable without the bot, the ORM or the OCR."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.import_graph import import_circles, import_graph

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


# Packages kept free of import circles (issue 12 removed the last ones).
CIRCLE_FREE = ("core", "storage", "local_api", "handlers", "bot")


def circles_within(graph: dict[str, set[str]], packages: tuple[str, ...]) -> list[list[str]]:
    inside = {m for m in graph if m.split(".")[0] in packages}
    return import_circles({m: graph[m] & inside for m in inside})


def test_no_import_circles() -> None:
    assert circles_within(import_graph(), CIRCLE_FREE) == []


def test_no_import_circles_through_type_only_imports() -> None:
    # core and the local server do not hide circles behind `if TYPE_CHECKING:` either
    assert circles_within(import_graph(typing=True), ("core", "storage", "local_api")) == []


def test_the_circle_finder_finds_circles() -> None:
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}, "b.q": {"a.w"}}
    assert circles_within(graph, ("a", "b")) == [["a.x", "a.y", "a.z"]]
    assert circles_within(graph, ("b",)) == []


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

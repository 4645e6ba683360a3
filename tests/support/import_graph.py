"""The project's module import graph, to find import circles.

`python -m tests.support.import_graph` prints every circle (a strongly connected set of
modules) and, with `--longest N`, the longest source files. An import inside
a function counts: the circle is still there, only hidden until the function runs. An
import inside `if TYPE_CHECKING:` never runs; `--typing` counts those too (circles a
reader still has to follow).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "storage", "handlers", "bot", "local_api")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Alembic loads revisions by path, nothing imports them
            modules[module_name(path, root)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, typing: bool) -> Iterable[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test) and not typing:
            yield from (n for child in node.orelse for n in _imports_of(child, typing))
            continue
        yield from _imports_of(node, typing)


def _imports_of(node: ast.AST, typing: bool) -> Iterable[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _imports(node, typing)


@cache
def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def imported_modules(
    name: str, path: Path, modules: dict[str, Path], typing: bool = False
) -> set[str]:
    """The project modules that module `name` (file `path`) imports; with `typing`, also
    those imported only for the type checker."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _imports(_parse(path), typing):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a import b` imports the module a.b when b is one, else a name from a
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path = ROOT, typing: bool = False) -> dict[str, set[str]]:
    modules = project_modules(root)
    return {name: imported_modules(name, path, modules, typing) for name, path in modules.items()}


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected sets of more than one module (Tarjan's algorithm), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                members.append(member)
                if member == node:
                    break
            if len(members) > 1:
                circles.append(sorted(members))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(circles)


def longest_files(count: int, root: Path = ROOT) -> list[tuple[int, str]]:
    sizes = [
        (len(path.read_text().splitlines()), str(path.relative_to(root)))
        for path in project_modules(root, (*PACKAGES, "tests", "bench")).values()
    ]
    return sorted(sizes, reverse=True)[:count]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--longest", type=int, default=0, help="also list the N longest files")
    parser.add_argument("--typing", action="store_true", help="count TYPE_CHECKING imports")
    args = parser.parse_args(argv)
    circles = import_circles(import_graph(typing=args.typing))
    for circle in circles:
        print(f"circle ({len(circle)}): {' ↔ '.join(circle)}")
    print(f"{len(circles)} import circles")
    for lines, path in longest_files(args.longest):
        print(f"{lines:6d} {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

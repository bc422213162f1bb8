"""The pure core stays pure: its modules import no database, network or clock module, and read no clock.

Walked statically: every import of each pure module (function-level ones too, ``if TYPE_CHECKING:`` blocks
aside), followed through the module-level imports of the aggregator modules they reach (config.py checks
feed URLs with the address guard inside a function the engine never calls). A second check imports the modules in a fresh
interpreter and looks at what got loaded, which also catches a third-party library pulling one in.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

PURE = (
    "aggregator.stories.doc",
    "aggregator.stories.engine",
    "aggregator.stories.related",
    "aggregator.stories.topics",
    "aggregator.stories.coverage",
    "aggregator.stories.kinds",
    "aggregator.stories.text",
    "aggregator.stories.hygiene",
    "aggregator.stories.features",
    "aggregator.stories.copies",
    "aggregator.stories.model",
    "aggregator.stories.categories",
    "aggregator.stories.headline",
    "aggregator.ingest.schedule",
    "aggregator.ingest.outlets",
)
DATABASE = {"sqlalchemy", "alembic", "sqlite3", "psycopg", "psycopg2"}
NETWORK = {
    "socket", "ssl", "http", "urllib.request", "asyncio", "aiohttp", "requests", "httpx", "smtplib",
    "feedparser", "trafilatura",
}  # fmt: skip
CLOCK = {"time"}
FORBIDDEN = DATABASE | NETWORK | CLOCK
# Loaded by these libraries' own imports of the standard library, so only checked statically.
LOADED_ANYWAY = {"socket", "ssl", "http", "time", "asyncio"}
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "process_time"}


def _source(module: str) -> tuple[Path, bool]:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    return Path(spec.origin), spec.submodule_search_locations is not None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(tree: ast.AST, *, functions: bool = True) -> list[ast.AST]:
    """Every node, leaving out the bodies of ``if TYPE_CHECKING:`` (and of functions unless ``functions``)."""
    found: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        found.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            if not functions and isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            stack.append(child)
    return found


def _imports(module: str, *, functions: bool = True) -> tuple[list[str], list[str]]:
    """(modules imported, clock reads) of one module."""
    path, is_package = _source(module)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if is_package else module.rpartition(".")[0]
    names: list[str] = []
    clock: list[str] = []
    for node in _nodes(tree, functions=functions):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names.append(target)
            # `from . import x` and `from .pkg import sub` may name submodules
            names += [
                f"{target}.{alias.name}" for alias in node.names if _is_module(f"{target}.{alias.name}")
            ]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in CLOCK_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"datetime", "date", "time"}
        ):
            clock.append(f"{node.func.value.id}.{node.func.attr}() at line {node.lineno}")
    return names, clock


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _forbidden(name: str) -> str | None:
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        if ".".join(parts[:i]) in FORBIDDEN:
            return ".".join(parts[:i])
    return None


def _walk(start: str) -> list[str]:
    """Problems found from ``start``: each a chain of imports ending in a forbidden module or a clock read."""
    problems: list[str] = []
    seen = {start}
    queue: list[tuple[str, tuple[str, ...]]] = [(start, (start,))]
    while queue:
        module, chain = queue.pop(0)
        names, clock = _imports(module, functions=module in PURE or module == start)
        problems += [f"{' -> '.join(chain)} reads the clock: {c}" for c in clock]
        for name in names:
            bad = _forbidden(name)
            if bad is not None:
                problems.append(f"{' -> '.join(chain)} imports {name}")
            elif name.split(".")[0] == "aggregator" and name not in seen and _is_module(name):
                seen.add(name)
                queue.append((name, (*chain, name)))
    return problems


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_no_database_network_or_clock(module: str) -> None:
    assert _walk(module) == []


def test_the_walk_finds_a_forbidden_import() -> None:
    # The database glue beside the engine is not pure; the walk must say so, or it proves nothing.
    problems = _walk("aggregator.stories.cluster")
    assert any("sqlalchemy" in p for p in problems), problems


def test_pure_modules_load_no_database_or_network_library() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for m in {list(PURE)!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )
    unwanted = sorted(m for m in loaded if (bad := _forbidden(m)) is not None and bad not in LOADED_ANYWAY)
    assert unwanted == []

"""The sandbox's modules import each other without a cycle, function-level imports included."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import medblocks.sandbox

PACKAGE = Path(medblocks.sandbox.__file__).parent
NAME = "medblocks.sandbox"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((NAME, *parts))


def sandbox_imports(path: Path, modules: set[str]) -> set[str]:
    """The sandbox modules `path` imports anywhere in it (`from x import y` counts `x.y` when
    that is a module, else `x`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
    return {name for name in found if name in modules}


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    files = sorted(root.rglob("*.py"))
    modules = {module_name(path) for path in files}
    # The package root re-exports the public names; it is nobody's dependency inside.
    return {
        module_name(path): sandbox_imports(path, modules) - {NAME}
        for path in files
        if module_name(path) != NAME
    }


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        return list(error.args[1])
    return None


def test_no_import_cycle_among_sandbox_modules() -> None:
    assert cycle_in(import_graph()) is None


def test_a_cycle_through_a_function_level_import_is_seen() -> None:
    graph = import_graph()
    graph["medblocks.sandbox.errors"] = {"medblocks.sandbox.asgi"}  # asgi imports errors
    assert cycle_in(graph) is not None


def test_the_scan_reads_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from medblocks.sandbox import asgi\n")
    assert sandbox_imports(module, {"medblocks.sandbox.asgi"}) == {"medblocks.sandbox.asgi"}

"""Imports point one way: pages/ -> medblocks/ -> medblocks/spec/.

Read statically (every `import`, including the ones inside functions), so a lazy import cannot
slip past the rule the way it could past a check of `sys.modules`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def python_files(*parts: str) -> list[Path]:
    files: list[Path] = []
    for part in parts:
        target = REPO / part
        files.extend([target] if target.is_file() else sorted(target.rglob("*.py")))
    return files


def offenders(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(REPO)} imports {module}"
        for path in files
        for module in imported_modules(path)
        if any(module == name or module.startswith(name + ".") for name in forbidden)
    )


RULES = {
    "nothing below pages/ imports streamlit": (("medblocks",), ("streamlit",)),
    "the product never imports the test suites": (
        ("medblocks", "pages", "dashboard.py"),
        ("contract_tests", "tests"),
    ),
    "the spec package depends on nothing else of the project": (
        ("medblocks/spec",),
        ("medblocks.client", "medblocks.sandbox", "medblocks.dashboard", "medblocks.config"),
    ),
    "the sandbox depends on medblocks.spec alone": (
        ("medblocks/sandbox",),
        ("medblocks.client", "medblocks.dashboard", "medblocks.config", "medblocks.__main__"),
    ),
    "the client knows nothing of the sandbox or the dashboard": (
        ("medblocks/client",),
        ("medblocks.sandbox", "medblocks.dashboard"),
    ),
    "the data layer never reaches up into pages": (("medblocks",), ("pages", "dashboard")),
    "the mirror uses the client, never the sandbox or the dashboard": (
        ("medblocks/mirror",),
        ("medblocks.sandbox", "medblocks.dashboard"),
    ),
}


@pytest.mark.parametrize("rule", RULES, ids=list(RULES))
def test_import_rule(rule: str) -> None:
    where, forbidden = RULES[rule]
    assert offenders(python_files(*where), forbidden) == []


def test_the_scan_sees_lazy_imports(tmp_path: Path) -> None:
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    import streamlit as st\n    from medblocks.client import x\n")
    assert {"streamlit", "medblocks.client", "medblocks.client.x"} <= imported_modules(module)

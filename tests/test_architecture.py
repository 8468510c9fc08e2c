"""Imports point one way: ui_pages/ -> medblocks/ -> medblocks/spec/, and go round in no circle.

Read statically (every `import`, including the ones inside functions and under
`TYPE_CHECKING`), so a lazy import cannot slip past a rule the way it could past a check of
`sys.modules`. Every rule is also run over a small synthetic tree with one violation seeded, to
show it can fail.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PRODUCT = ("medblocks", "ui_pages", "dashboard.py")


def imported_modules(path: Path) -> set[str]:
    """Every absolute module name `path` imports, with `from a import b` also as `a.b`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def python_files(root: Path, *parts: str) -> list[Path]:
    files: list[Path] = []
    for part in parts:
        target = root / part
        if target.is_file():
            files.append(target)
        elif target.is_dir():
            files.extend(sorted(target.rglob("*.py")))
    return files


def offenders(root: Path, where: Iterable[str], forbidden: Iterable[str]) -> list[str]:
    forbidden = tuple(forbidden)
    return sorted(
        f"{path.relative_to(root)} imports {module}"
        for path in python_files(root, *where)
        for module in imported_modules(path)
        if any(module == name or module.startswith(name + ".") for name in forbidden)
    )


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: Iterable[str]) -> set[str]:
    """The modules among `modules` that `path` imports: `import a.b` is the nearest of `a.b`,
    `a`; `from a import b` is `a.b` when that is a module, else `a` (the convention of
    import-linter: importing a submodule does not count as importing its package's __init__)."""
    known = set(modules)

    def nearest(name: str) -> str:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(nearest(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else nearest(node.module))
    return found - {""}


def import_graph(root: Path, parts: Iterable[str]) -> dict[str, set[str]]:
    """Module -> the modules of the same tree it imports (a package is its `__init__`)."""
    modules = {module_name(root, path): path for path in python_files(root, *parts)}
    return {name: imports_of(path, modules) - {name} for name, path in modules.items()}


def cycles(graph: Mapping[str, set[str]]) -> set[frozenset[str]]:
    """The groups of modules that import each other round a circle (Tarjan's SCCs of size > 1)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()

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
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                found.add(frozenset(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "nothing below ui_pages/ imports streamlit": (("medblocks",), ("streamlit",)),
    "the product never imports the test suites": (PRODUCT, ("contract_tests", "tests")),
    "the spec package depends on nothing else of the project": (
        ("medblocks/spec",),
        ("medblocks.client", "medblocks.sandbox", "medblocks.dashboard", "medblocks.config"),
    ),
    "the sandbox never imports the client, configuration, the dashboard or the commands": (
        ("medblocks/sandbox",),
        ("medblocks.client", "medblocks.dashboard", "medblocks.config", "medblocks.__main__"),
    ),
    "the loopback rule depends on nothing of the project (the sandbox and the client share it)": (
        ("medblocks/loopback.py",),
        ("medblocks", "ui_pages", "dashboard"),
    ),
    "the thread server depends on nothing of the project (the sandbox and the mirror share it)": (
        ("medblocks/served_thread.py",),
        ("medblocks", "ui_pages", "dashboard"),
    ),
    "the client never imports configuration, the dashboard, the mirror or the sandbox": (
        ("medblocks/client",),
        ("medblocks.config", "medblocks.dashboard", "medblocks.mirror", "medblocks.sandbox"),
    ),
    "the data layer never reaches up into pages": (("medblocks",), ("ui_pages", "dashboard")),
    "the mirror uses the client, never the sandbox or the dashboard": (
        ("medblocks/mirror",),
        ("medblocks.sandbox", "medblocks.dashboard"),
    ),
    "bench/ never imports ui_pages/ (nor the dashboard's entry file)": (
        ("bench",),
        ("ui_pages", "dashboard"),
    ),
}


@pytest.mark.parametrize("rule", RULES, ids=list(RULES))
def test_import_rule(rule: str) -> None:
    where, forbidden = RULES[rule]
    assert offenders(REPO, where, forbidden) == []


@pytest.mark.parametrize("rule", RULES, ids=list(RULES))
def test_each_import_rule_fails_on_a_seeded_violation(rule: str, tmp_path: Path) -> None:
    where, forbidden = RULES[rule]
    seeded = tmp_path / where[0]
    if not seeded.suffix:
        seeded = seeded / "seeded.py"
    seeded.parent.mkdir(parents=True, exist_ok=True)
    for name in forbidden:  # one violation at a time, each hidden in a function
        seeded.write_text(f"def later():\n    import {name}.anything\n")
        assert offenders(tmp_path, where, forbidden) == [
            f"{seeded.relative_to(tmp_path)} imports {name}.anything"
        ]


SANDBOX_MAY_IMPORT = (
    "medblocks.sandbox",
    "medblocks.spec",
    "medblocks.loopback",
    "medblocks.served_thread",
)
"""All the project the sandbox may import: itself, the spec and the two neutral modules."""


def outside(root: Path, where: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """The imports of the project's own top-level packages in `where` that fall outside `allowed`
    (an allow-list, so a module added to the project later is outside until named)."""
    allowed = tuple(allowed)
    own = ("medblocks", "ui_pages", "dashboard", "contract_tests", "tests", "bench", "scripts")
    return sorted(
        f"{path.relative_to(root)} imports {module}"
        for path in python_files(root, *where)
        for module in imported_modules(path)
        if module.split(".")[0] in own
        and not any(module == name or module.startswith(name + ".") for name in allowed)
    )


def test_the_sandbox_imports_nothing_of_the_project_beyond_its_allow_list(tmp_path: Path) -> None:
    assert outside(REPO, ["medblocks/sandbox"], SANDBOX_MAY_IMPORT) == []
    seeded = tmp_path / "medblocks" / "sandbox" / "seeded.py"
    seeded.parent.mkdir(parents=True)
    seeded.write_text(
        "from medblocks.spec import x\ndef later():\n    import medblocks.mirror.sync\n"
    )
    assert outside(tmp_path, ["medblocks/sandbox"], SANDBOX_MAY_IMPORT) == [
        "medblocks/sandbox/seeded.py imports medblocks.mirror.sync"
    ]


def test_no_import_cycle_among_product_modules() -> None:
    found = cycles(import_graph(REPO, PRODUCT))
    assert found == set(), [sorted(group) for group in found]


def test_the_cycle_check_finds_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "orders.py").write_text("from shop.stock import reserve\n")
    (package / "stock.py").write_text("def reserve():\n    from shop import orders\n")
    (package / "prices.py").write_text("import shop.stock\n")
    graph = import_graph(tmp_path, ["shop"])
    assert graph["shop.stock"] == {"shop.orders"}  # `from shop import orders` is the module
    assert cycles(graph) == {frozenset({"shop.orders", "shop.stock"})}
    (package / "stock.py").write_text("def reserve():\n    pass\n")
    assert cycles(import_graph(tmp_path, ["shop"])) == set()


def test_the_scan_sees_lazy_imports(tmp_path: Path) -> None:
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    import streamlit as st\n    from medblocks.client import x\n")
    assert {"streamlit", "medblocks.client", "medblocks.client.x"} <= imported_modules(module)


# -- pages hold no state machine -----------------------------------------------------------------

MAX_SESSION_KEYS = 1
"""The most `st.session_state` keys one page may use: one object of `medblocks.dashboard`
(e.g. `row_actions.Disconnect`) holding the page's steps, whose transitions are tested there."""

PAGES = ("ui_pages", "dashboard.py")

SESSION_STATE_METHODS = {
    "get",
    "setdefault",
    "pop",
    "__getitem__",
    "__setitem__",
    "__delitem__",
    "__contains__",
}
"""Methods of `st.session_state` whose first argument is a key."""


def session_state_keys(path: Path) -> set[str]:
    """The keys `path` uses on `st.session_state` (or on a name bound to it, or imported as
    `from streamlit import session_state`), read statically: `state["k"]`, `state.k`,
    `state.get("k")` (and setdefault, pop, the dunder methods), and `"k" in state`. A key that is
    not a literal (an f-string, a variable, a bound method passed on), or the whole state handed
    to a function, counts as one more key of its own, `<line N>`: it cannot be shown to be one
    of the others.

    Widget `key=` arguments are not counted: a key names a widget so Streamlit keeps what the
    person chose in it across reruns; it is the widget's value, not a step of a flow. A page that
    reads a widget's value back through `st.session_state` is counted by that read."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    aliases = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "streamlit"
        for alias in node.names
        if alias.name == "session_state"
    }
    bindings = [
        (node.value, [node.target] if isinstance(node, ast.AnnAssign) else node.targets)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
    ]
    aliases |= {
        target.id
        for value, targets in bindings
        if _is_session_state(value, set())
        for target in targets
        if isinstance(target, ast.Name)
    }
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    keys: set[str] = set()

    def literal_or_line(node: ast.AST | None, line: int) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return f"<line {line}>"

    for node in ast.walk(tree):
        if not _is_session_state(node, aliases) or isinstance(node.ctx, ast.Store):  # type: ignore[attr-defined]
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Subscript) and parent.value is node:
            keys.add(literal_or_line(parent.slice, parent.lineno))
        elif isinstance(parent, ast.Attribute) and parent.value is node:
            if parent.attr not in SESSION_STATE_METHODS:
                keys.add(parent.attr)
                continue
            call = parents.get(parent)
            called = isinstance(call, ast.Call) and call.func is parent and call.args
            first = call.args[0] if called else None  # type: ignore[union-attr]
            keys.add(literal_or_line(first, parent.lineno))
        elif isinstance(parent, ast.Compare) and parent.comparators[-1] is node:
            keys.add(literal_or_line(parent.left, parent.lineno))
        elif isinstance(parent, ast.Assign | ast.AnnAssign) and all(
            isinstance(t, ast.Name) and t.id in aliases
            for t in ([parent.target] if isinstance(parent, ast.AnnAssign) else parent.targets)
        ):
            continue  # `state = st.session_state` binds the alias: no key
        else:
            keys.add(f"<line {node.lineno}>")  # handed on whole: any key at all
    return keys


def _is_session_state(node: ast.AST, aliases: set[str]) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "session_state") or (
        isinstance(node, ast.Name) and node.id in aliases
    )


def pages_with_too_many_keys(root: Path) -> dict[str, list[str]]:
    """Page (`ui_pages/*.py` but the `_` glue modules, and `dashboard.py`) -> its keys, for the
    pages using more than `MAX_SESSION_KEYS`."""
    found = {}
    for path in python_files(root, *PAGES):
        if path.name.startswith("_"):
            continue
        keys = session_state_keys(path)
        if len(keys) > MAX_SESSION_KEYS:
            found[path.relative_to(root).as_posix()] = sorted(keys)
    return found


def test_pages_hold_no_state_machine() -> None:
    """At most `MAX_SESSION_KEYS` session-state key per page: a flow of several steps (ask,
    confirm, act, re-read, say) lives in `medblocks/dashboard/` as one object with unit tests.
    The `_` modules of ui_pages/ are Streamlit glue shared by every page (who is signed in,
    Reveal, the page being drawn), not pages, and are not counted."""
    assert pages_with_too_many_keys(REPO) == {}


def test_the_state_rule_fails_on_a_seeded_page(tmp_path: Path) -> None:
    pages = tmp_path / "ui_pages"
    pages.mkdir()
    (pages / "_glue.py").write_text('st.session_state["a"] = st.session_state.get("b")\n')
    (pages / "calm.py").write_text(
        "import streamlit as st\n"
        'flow = st.session_state.setdefault("calm_flow", None)\n'
        'st.button("Go", key="calm_go")\n'  # a widget's key: its value, not a step
        'if "calm_flow" in st.session_state:\n'
        '    st.session_state["calm_flow"] = 1\n'
    )
    assert pages_with_too_many_keys(tmp_path) == {}
    (pages / "busy.py").write_text(
        "import streamlit as st\n"
        "state = st.session_state\n"
        'def confirm():\n    if "busy_asking" in state:\n        state.busy_done = True\n'
    )
    assert pages_with_too_many_keys(tmp_path) == {"ui_pages/busy.py": ["busy_asking", "busy_done"]}
    (pages / "busy.py").write_text(
        'import streamlit as st\nst.session_state.pop("one", None)\nst.session_state[f"x{1}"] = 2\n'
    )
    assert pages_with_too_many_keys(tmp_path) == {"ui_pages/busy.py": ["<line 3>", "one"]}
    (pages / "busy.py").write_text(
        'from streamlit import session_state as memory\nmemory["asked"] = True\nremember(memory)\n'
    )
    assert pages_with_too_many_keys(tmp_path) == {"ui_pages/busy.py": ["<line 3>", "asked"]}

"""The docs stay true: README.md, docs/*.md and docs/incoming/*.md (when present) are read, and

- every repository path they name exists (a link relative to its file, with its `#anchor`
  among the target's headings; a path in code relative to the repository root, or as the end of
  a path in it: `hosted/pages.py` under `medblocks/sandbox/`);
- every `python -m medblocks …` and `python -m medblocks.sandbox …` command they show is
  accepted by the argparse parsers the commands run (`build_parser()`: one source of truth,
  the same tree `--help` prints), every subcommand and every option;
- every `MEDBLOCKS_*` variable they name is read by the code (named in a source file or
  `.env.example`).

CHANGELOG.md is history and may name what no longer exists; it is not checked. Each check is
also run on seeded wrong text to show it reports the error.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from medblocks.__main__ import build_parser as medblocks_parser
from medblocks.sandbox.__main__ import build_parser as sandbox_parser

REPO = Path(__file__).resolve().parents[1]
SKIPPED_DIRS = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
SKIPPED_DIRS |= {".hypothesis", "node_modules"}
# Written at run time (git-ignored), or outside the repository: named, never committed.
RUNTIME_PATHS = (
    ".dashboard/",
    ".sandbox/",
    "reports/",
    ".streamlit/secrets.toml",
    "../",
    "contract-junit.xml",
    "contract-report.md",
    "contract-summary.json",
    "drift.json",
    "run.json",
    "output.log",
    "alembic.ini",  # named as absent: the migrations run without one
)
FILE_SUFFIXES = {".py", ".md", ".json", ".toml", ".yml", ".yaml", ".txt", ".png", ".ini"}
FILE_SUFFIXES |= {".sh", ".js", ".html", ".css", ".xml", ".log", ".example", ".sqlite3"}
PATH_TOKEN = re.compile(r"^[\w.\-/]+$")
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
VARIABLE = re.compile(r"\bMEDBLOCKS_[A-Z0-9_]*[A-Z0-9]\b")
COMMAND = re.compile(r"python -m (medblocks(?:\.sandbox)?)(?![\w.])(.*)")
SHELL_STOP = {"&", "&&", "|", "||", ";", ">", ">>", "2>&1"}


@dataclass(frozen=True)
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def doc_files(root: Path = REPO) -> list[Path]:
    """README.md, the guides, and the helpers' incoming notes if any are there."""
    files = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    return files + sorted((root / "docs" / "incoming").glob("*.md"))


@cache
def repository_entries(root: Path = REPO) -> tuple[frozenset[str], frozenset[str]]:
    """Every file and every directory of the working tree, as paths relative to `root`."""
    files: set[str] = set()
    dirs: set[str] = set()
    for path in _walk(root):
        (dirs if path.is_dir() else files).add(path.relative_to(root).as_posix())
    return frozenset(files), frozenset(dirs)


def _walk(directory: Path) -> Iterator[Path]:
    for entry in directory.iterdir():
        if entry.name in SKIPPED_DIRS:
            continue
        yield entry
        if entry.is_dir() and not entry.is_symlink():
            yield from _walk(entry)


def code_lines(text: str) -> Iterator[tuple[int, str, bool]]:
    """(line number, line, inside a fenced block) for every line of `text`."""
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        yield number, line, fenced


def code_fragments(text: str) -> Iterator[tuple[int, str]]:
    """Code as written in the text: whole lines of fenced blocks, and inline code spans."""
    for number, line, fenced in code_lines(text):
        if fenced:
            yield number, line
        else:
            for span in CODE_SPAN.findall(line):
                yield number, span


# --- paths ------------------------------------------------------------------------------------


def heading_anchors(text: str) -> set[str]:
    """GitHub's anchors for the Markdown headings of `text`."""
    anchors = set()
    for _, line, fenced in code_lines(text):
        if not fenced and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def is_runtime_path(token: str) -> bool:
    return any(token == p or token.startswith(p) or token.endswith("/" + p) for p in RUNTIME_PATHS)


def path_candidate(token: str) -> str | None:
    """`token` if it reads as a path into the repository, else None (URLs, routes, MIME types,
    placeholders, dotted names)."""
    token = token.strip("\"'()[]").rstrip(".,;:")
    if not token or not PATH_TOKEN.match(token) or token.startswith(("/", "-")):
        return None
    first = token.split("/", 1)[0]
    top_level = (REPO / first).exists() and "/" in token
    looks_like_file = Path(token).suffix in FILE_SUFFIXES
    looks_like_dir = token.endswith("/") and token.count("/") >= 1
    if not (top_level or looks_like_file or looks_like_dir):
        return None
    return None if is_runtime_path(token) else token


def path_exists(token: str, root: Path = REPO) -> bool:
    files, dirs = repository_entries(root)
    wanted = token.rstrip("/")
    if token.endswith("/"):
        return wanted in dirs or any(d.endswith("/" + wanted) for d in dirs)
    return wanted in files or wanted in dirs or any(f.endswith("/" + wanted) for f in files)


def path_problems(text: str, doc: Path, root: Path = REPO) -> list[Problem]:
    problems = []
    for number, line, fenced in code_lines(text):
        for target in [] if fenced else LINK.findall(line):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            linked = (doc.parent / path).resolve() if path else doc
            where = f"{doc.name}:{number}"
            if not linked.exists():
                problems.append(Problem(where, f"link to a missing file: {target}"))
            elif (
                anchor
                and linked.suffix == ".md"
                and anchor not in heading_anchors(linked.read_text(encoding="utf-8"))
            ):
                problems.append(Problem(where, f"link to a missing heading: {target}"))
    for number, fragment in code_fragments(text):
        for token in fragment.split():
            candidate = path_candidate(token)
            if candidate and not path_exists(candidate, root):
                problems.append(Problem(f"{doc.name}:{number}", f"no such path: {candidate}"))
    return problems


# --- commands ---------------------------------------------------------------------------------


def command_parsers() -> dict[str, argparse.ArgumentParser]:
    return {"medblocks": medblocks_parser(), "medblocks.sandbox": sandbox_parser()}


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {flag: action for action in parser._actions for flag in action.option_strings}


def _is_placeholder(token: str) -> bool:
    """`URL`, `OLD`, `wh_…`, `...`: a value the reader fills in."""
    return token.isupper() or "…" in token or "..." in token


def command_problems(text: str, doc_name: str = "text") -> list[Problem]:
    """Every `python -m medblocks[.sandbox] …` shown: its subcommands and options exist."""
    problems = []
    for number, fragment in code_fragments(text):
        for module, rest in COMMAND.findall(fragment):
            where = f"{doc_name}:{number}"
            problems += [Problem(where, w) for w in _walk_command(module, rest.split("#")[0])]
    return problems


def _walk_command(module: str, arguments: str) -> list[str]:
    try:
        tokens = shlex.split(arguments.replace("[", " ").replace("]", " "))
    except ValueError:
        tokens = arguments.split()
    parser = command_parsers()[module]
    shown = f"python -m {module}"
    pending_value: argparse.Action | None = None
    for token in tokens:
        if token in SHELL_STOP:
            break
        if pending_value is not None:
            choices = pending_value.choices
            if choices and not _is_placeholder(token):
                unknown = [v for v in token.split("|") if v not in choices]
                if unknown:
                    return [f"`{shown}`: {'|'.join(unknown)} is not a choice of {token}"]
            pending_value = None
            continue
        if token.startswith("-"):
            flag = token.split("=", 1)[0]
            action = _options(parser).get(flag)
            if action is None:
                return [f"`{shown}` has no option {flag}"]
            if action.nargs != 0 and "=" not in token:
                pending_value = action
            continue
        subcommands = _subcommands(parser)
        if subcommands and token in subcommands:
            parser = subcommands[token]
            shown += f" {token}"
        elif subcommands and not _is_placeholder(token):
            return [f"`{shown}` has no command {token} (it has {', '.join(subcommands)})"]
    return []


# --- configuration variables -----------------------------------------------------------------


SOURCE_SUFFIXES = {".py", ".toml", ".yml", ".example"}


@cache
def variables_read(root: Path = REPO) -> frozenset[str]:
    """Every MEDBLOCKS_* name in the code (this test left out: it seeds unknown ones)."""
    names: set[str] = set()
    files, _ = repository_entries(root)
    for name in files:
        path = root / name
        if path.suffix in SOURCE_SUFFIXES and path != Path(__file__).resolve():
            names.update(VARIABLE.findall(path.read_text(encoding="utf-8", errors="replace")))
    return frozenset(names)


def variable_problems(text: str, doc_name: str = "text") -> list[Problem]:
    known = variables_read()
    return [
        Problem(f"{doc_name}:{number}", f"{name} is read nowhere in the code")
        for number, line in enumerate(text.splitlines(), start=1)
        for name in VARIABLE.findall(line)
        if name not in known
    ]


def all_problems(doc: Path) -> list[Problem]:
    text = doc.read_text(encoding="utf-8")
    return (
        path_problems(text, doc)
        + command_problems(text, doc.name)
        + variable_problems(text, doc.name)
    )


# --- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("doc", doc_files(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_the_docs_name_only_what_exists(doc: Path) -> None:
    problems = all_problems(doc)
    assert not problems, "\n".join(map(str, problems))


def test_every_audience_reaches_its_guide_from_the_readme_in_one_link() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 300
    for guide in ("ops", "qa", "pm", "sandbox", "client", "architecture", "benchmarks"):
        assert f"](docs/{guide}.md)" in readme, guide


def test_a_seeded_wrong_path_is_reported() -> None:
    doc = REPO / "docs" / "seeded.md"
    text = (
        "The client lives in `medblocks/client/async_client.py`; the receiver in\n"
        "`medblocks/mirror/reciever.py`, pages in `hosted/pagez.py`.\n"
        "See [the ops guide](ops.md#team-deployment-step-by-step), [gone](nowhere.md) and\n"
        "[a heading](qa.md#no-such-heading). Reports go to `reports/contract-junit.xml`.\n"
    )
    assert [str(p) for p in path_problems(text, doc)] == [
        "seeded.md:3: link to a missing file: nowhere.md",
        "seeded.md:4: link to a missing heading: qa.md#no-such-heading",
        "seeded.md:2: no such path: medblocks/mirror/reciever.py",
        "seeded.md:2: no such path: hosted/pagez.py",
    ]


def test_a_seeded_unknown_command_or_flag_is_reported() -> None:
    text = (
        "```bash\n"
        "python -m medblocks mirror webhook register URL   # fine\n"
        "python -m medblocks mirror --database-url postgresql+psycopg://… sync --rate 20\n"
        "python -m medblocks mirror sync --fast\n"
        "python -m medblocks mirror webhook delete wh_…\n"
        "python -m medblocks spec check --format text|yaml\n"
        "```\n"
        "Run `python -m medblocks.sandbox --memory --port 9000`, not\n"
        "`python -m medblocks.sandbox --in-memory`.\n"
    )
    assert [str(p) for p in command_problems(text)] == [
        "text:4: `python -m medblocks mirror sync` has no option --fast",
        "text:5: `python -m medblocks mirror webhook` has no command delete "
        "(it has register, list)",
        "text:6: `python -m medblocks spec check`: yaml is not a choice of text|yaml",
        "text:9: `python -m medblocks.sandbox` has no option --in-memory",
    ]


def test_a_seeded_unknown_variable_is_reported() -> None:
    unknown = "MEDBLOCKS_" + "NOT_A_SETTING"
    text = f"Set `MEDBLOCKS_DATABASE_URL` and `{unknown}`; `MEDBLOCKS_*` names them all.\n"
    assert [str(p) for p in variable_problems(text)] == [
        f"text:1: {unknown} is read nowhere in the code"
    ]


def test_incoming_notes_are_checked_when_present_and_optional_when_not(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("# x\n", encoding="utf-8")
    (tmp_path / "docs" / "ops.md").write_text("# ops\n", encoding="utf-8")
    assert [p.name for p in doc_files(tmp_path)] == ["README.md", "ops.md"]
    (tmp_path / "docs" / "incoming").mkdir()
    (tmp_path / "docs" / "incoming" / "i99.md").write_text("`bench/nope.py`\n", encoding="utf-8")
    found = doc_files(tmp_path)
    assert [p.name for p in found] == ["README.md", "ops.md", "i99.md"]
    assert [str(p) for p in all_problems(found[-1])] == ["i99.md:1: no such path: bench/nope.py"]

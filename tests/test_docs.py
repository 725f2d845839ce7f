"""The documentation stays true to the code: every hook is documented with its exact signature,
every hook spec has a docstring, every Python example compiles, and relative links resolve.

Fast on purpose: no subprocess, no broker.
"""

from __future__ import annotations

import importlib
import inspect
import re
import textwrap
from pathlib import Path
from types import ModuleType

import pytest
from pioreactor.kernel import hookspecs

DOCS = Path(__file__).resolve().parent.parent / "docs"
HOOKS_PAGE = DOCS / "plugins" / "hooks.md"

# an opening fence (``` or more backticks, possibly indented in a list) with its info string
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,})(?P<info>[^`\n]*)$")
# [text](target); an image's ![alt](target) matches too, and its file must exist as well
LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")


def spec_modules() -> list[ModuleType]:
    """The kernel's hook specs and those core plugins add with ``pioreactor_addhooks``."""
    core = Path(__file__).resolve().parent.parent / "plugins_core"
    plugins = sorted(path.parent.name for path in core.glob("*/hookspecs.py"))
    return [hookspecs, *(importlib.import_module(f"pioreactor.plugins_core.{p}.hookspecs") for p in plugins)]


def spec(name: str) -> object:
    return next(getattr(module, name) for module in spec_modules() if hasattr(module, name))


def hook_names() -> list[str]:
    return sorted(
        name
        for module in spec_modules()
        for name, value in vars(module).items()
        if name.startswith("pioreactor_") and inspect.isfunction(value)
    )


def signature_text(name: str) -> str:
    """``name(arg1, arg2)``: the form the hook reference must show."""
    parameters = inspect.signature(spec(name)).parameters  # type: ignore[arg-type]
    return f"{name}({', '.join(parameters)})"


def markdown_files() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def code_blocks(path: Path) -> list[tuple[int, str, str]]:
    """(line number, info string, code) of every fenced block in a Markdown file."""
    blocks = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], opening["indent"]
        start = index + 1
        body = []
        index += 1
        while index < len(lines) and not (
            lines[index].strip().startswith(fence) and lines[index].strip().strip("`") == ""
        ):
            line = lines[index]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            index += 1
        index += 1  # past the closing fence
        blocks.append((start, opening["info"].strip(), textwrap.dedent("\n".join(body)) + "\n"))
    return blocks


def python_blocks() -> list[tuple[str, str]]:
    """(``file:line`` id, code) of every ```python block under docs/."""
    found = []
    for path in markdown_files():
        for line, info, code in code_blocks(path):
            language = info.split()[0] if info else ""
            if language.lower() in ("python", "py", "python3"):
                found.append((f"{path.relative_to(DOCS)}:{line}", code))
    return found


HOOKS = hook_names()
PYTHON_BLOCKS = python_blocks()


def test_hookspecs_exist() -> None:
    assert HOOKS, "no pioreactor_* hook specs found in pioreactor.kernel.hookspecs"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented_with_its_signature(name: str) -> None:
    expected = signature_text(name)
    page = HOOKS_PAGE.read_text(encoding="utf-8")
    assert expected in page, (
        f"{HOOKS_PAGE.relative_to(DOCS.parent)} must document {expected} "
        "(a heading or first code line with exactly this signature)"
    )


@pytest.mark.parametrize("name", HOOKS)
def test_hook_spec_has_a_docstring(name: str) -> None:
    doc = inspect.getdoc(spec(name))
    assert doc and doc.strip(), f"hook spec {name} (kernel/hookspecs.py or a plugin's hookspecs.py) needs a docstring"


def test_docs_have_python_examples() -> None:
    assert PYTHON_BLOCKS, "expected ```python examples under docs/"


@pytest.mark.parametrize(("where", "code"), PYTHON_BLOCKS, ids=[where for where, _ in PYTHON_BLOCKS])
def test_python_example_compiles(where: str, code: str) -> None:
    try:
        compile(code, f"docs/{where}", "exec")
    except SyntaxError as err:
        pytest.fail(f"docs/{where}: the example does not compile: {err}")


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(DOCS)))
def test_relative_links_resolve(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^[ \t]*```.*?^[ \t]*```", "", text, flags=re.S | re.M)  # links in code are examples
    broken = []
    for match in LINK.finditer(text):
        target = match["target"].split("#", 1)[0]
        if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target):  # same-page anchor, or a URL
            continue
        if not (path.parent / target).exists():
            broken.append(match["target"])
    assert not broken, f"docs/{path.relative_to(DOCS)} links to missing files: {broken}"

"""The package layout promises: core plugins are plugins like any other."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
CORE = ROOT / "plugins_core"


CORE_PREFIX = "pioreactor.plugins_core."
# upstream_compat installs upstream's import names (pioreactor.config, ...) from its surface/
# folder (see setup.py): those modules are its own
UPSTREAM_SURFACE = frozenset(
    p.name for p in (CORE / "upstream_compat" / "surface").iterdir() if (p / "__init__.py").is_file()
)
# a dotted module path, optionally with an entry-point style ":attr" target
TARGET = re.compile(r"^pioreactor(\.[A-Za-z_]\w*)+(:[A-Za-z_][\w.]*)?$")


def imported_modules(path: Path, package: str) -> list[tuple[int, str]]:
    """Every module ``path`` (module ``package``) imports (top-level, in functions, under
    TYPE_CHECKING) and every string naming a module or an entry-point target, with its line."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                parent = package.rsplit(".", node.level)[0]
                base = f"{parent}.{base}" if base else parent
            # `from pioreactor.plugins_core.pumps import api` imports the module pumps.api
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and TARGET.match(node.value):
            found.append((node.lineno, node.value.split(":")[0]))
    return found


def allowed(plugin: str, module: str) -> bool:
    """The layering rule for a module of core plugin ``plugin``."""
    if not module.startswith("pioreactor."):
        return True  # the standard library and third-party packages
    if module == "pioreactor.sdk" or module.startswith("pioreactor.sdk."):
        return True
    if module.startswith(CORE_PREFIX):
        parts = module[len(CORE_PREFIX) :].split(".")
        return parts[0] == plugin or parts[1:2] == ["api"]
    if plugin == "upstream_compat" and module.split(".")[1] in UPSTREAM_SURFACE:
        return True
    return False  # pioreactor.kernel, or anything else of pioreactor


def test_core_plugins_import_only_the_sdk_and_other_plugins_api() -> None:
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        relative = path.relative_to(CORE).parts
        if len(relative) < 2:
            continue  # plugins_core/__init__.py
        package = "pioreactor." + ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for line, module in imported_modules(path, package):
            # "from pioreactor.sdk import hookimpl" yields pioreactor.sdk.hookimpl: fine either way
            if not allowed(relative[0], module):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {module}")
    assert offenders == [], (
        "a core plugin imports pioreactor.sdk or another core plugin's `api` module, never the "
        "kernel or another plugin's internals:\n" + "\n".join(offenders)
    )


def test_the_layout_rule_catches_what_it_forbids(tmp_path: Path) -> None:
    assert allowed("stirring", "pioreactor.plugins_core.od_reading.api.ODDodger")
    assert allowed("stirring", "pioreactor.plugins_core.stirring.job")
    assert not allowed("stirring", "pioreactor.plugins_core.od_reading.job")
    assert not allowed("stirring", "pioreactor.kernel.bus")
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f():\n    from pioreactor.plugins_core.simulator.world import get_world\n"
        "from pioreactor.plugins_core.od_reading import job\n"
        "from ..od_reading.api import ODDodger\n"
        "TARGET = 'pioreactor.kernel.job:BackgroundJob'\n"
    )
    modules = {m for _, m in imported_modules(sample, "pioreactor.plugins_core.stirring.sample")}
    assert {m for m in modules if not allowed("stirring", m)} == {
        "pioreactor.plugins_core.simulator.world.get_world",
        "pioreactor.plugins_core.od_reading.job",
        "pioreactor.kernel.job",
    }
    assert "pioreactor.plugins_core.od_reading.api.ODDodger" in modules


def test_every_core_plugin_is_an_entry_point() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    entry_points = pyproject["project"]["entry-points"]["pioreactor.plugins"]
    packages = {p.name for p in CORE.iterdir() if (p / "__init__.py").exists()}
    assert {value.rsplit(".", 1)[-1] for value in entry_points.values()} == packages
    assert all(value.startswith("pioreactor.plugins_core.") for value in entry_points.values())


def test_the_plugin_template_imports_only_the_sdk_and_api_modules() -> None:
    # the template's files are Jinja (not parseable Python): read its import lines as text
    template = ROOT / "plugins_contrib_template"
    pattern = re.compile(r"^\s*(?:from|import)\s+(pioreactor\.[\w.]+)", re.M)
    found = [
        (path.relative_to(template), module)
        for path in template.rglob("*")
        if path.is_file() and path.suffix in (".py", ".md")
        for module in pattern.findall(path.read_text(encoding="utf-8"))
    ]
    assert found, "the template imports nothing from pioreactor: has it moved?"
    offenders = [f"{path}: {module}" for path, module in found if not allowed("<template>", module)]
    assert offenders == [], "the plugin template imports pioreactor.sdk or plugins' api modules only"

"""The package layout promises: core plugins are plugins like any other."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
CORE = ROOT / "plugins_core"


def test_no_core_plugin_imports_the_kernel() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.startswith("pioreactor.kernel")]
    assert offenders == [], "core plugins may import only pioreactor.sdk"


def test_every_core_plugin_is_an_entry_point() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    entry_points = pyproject["project"]["entry-points"]["pioreactor.plugins"]
    packages = {p.name for p in CORE.iterdir() if (p / "__init__.py").exists()}
    assert {value.rsplit(".", 1)[-1] for value in entry_points.values()} == packages
    assert all(value.startswith("pioreactor.plugins_core.") for value in entry_points.values())

"""The three top-level folders are installed under the ``pioreactor`` namespace.

``kernel/`` becomes ``pioreactor.kernel``, ``sdk/`` becomes ``pioreactor.sdk`` and
``plugins_core/`` becomes ``pioreactor.plugins_core``; everything else lives in pyproject.toml.

The upstream-compatibility plugin also installs upstream's import names (``pioreactor.config``,
``pioreactor.background_jobs``, ...): each folder of ``plugins_core/upstream_compat/surface/``
becomes ``pioreactor.<folder>``, so plugins written for upstream Pioreactor import unchanged.
"""

from pathlib import Path

from setuptools import find_packages, setup

SURFACE = "plugins_core/upstream_compat/surface"

PACKAGE_DIRS = {
    "pioreactor.kernel": "kernel",
    "pioreactor.sdk": "sdk",
    "pioreactor.plugins_core": "plugins_core",
}

for folder in sorted(Path(__file__).parent.joinpath(SURFACE).iterdir()):
    if (folder / "__init__.py").is_file():
        PACKAGE_DIRS[f"pioreactor.{folder.name}"] = f"{SURFACE}/{folder.name}"

packages = []
for package, folder in PACKAGE_DIRS.items():
    packages.append(package)
    # the surface is installed under upstream's names only, not a second time inside plugins_core
    exclude = ["upstream_compat.surface", "upstream_compat.surface.*"] if folder == "plugins_core" else []
    packages.extend(f"{package}.{sub}" for sub in find_packages(folder, exclude=exclude))

# the cookiecutter template ships inside the package, so `pio plugins new` works from a plain install
TEMPLATE = Path(__file__).parent / "plugins_contrib_template"
PACKAGE_DIRS["pioreactor.plugin_template"] = "plugins_contrib_template"
packages.append("pioreactor.plugin_template")
template_files = [
    str(path.relative_to(TEMPLATE))
    for path in sorted(TEMPLATE.rglob("*"))
    if path.is_file() and "__pycache__" not in path.parts
]

setup(
    package_dir=PACKAGE_DIRS,
    packages=packages,
    package_data={
        "": ["*.json", "*.yaml", "*.ini", "*.md"],
        "pioreactor.plugin_template": template_files,
        "pioreactor.plugins_core.web": ["placeholder_ui/*", "ui_dist/*", "ui_dist/assets/*"],
    },
)

"""The three top-level folders are installed under the ``pioreactor`` namespace.

``kernel/`` becomes ``pioreactor.kernel``, ``sdk/`` becomes ``pioreactor.sdk`` and
``plugins_core/`` becomes ``pioreactor.plugins_core``; everything else lives in pyproject.toml.
"""

from setuptools import find_packages, setup

PACKAGE_DIRS = {
    "pioreactor.kernel": "kernel",
    "pioreactor.sdk": "sdk",
    "pioreactor.plugins_core": "plugins_core",
}

packages = []
for package, folder in PACKAGE_DIRS.items():
    packages.append(package)
    packages.extend(f"{package}.{sub}" for sub in find_packages(folder))

setup(
    package_dir=PACKAGE_DIRS,
    packages=packages,
    package_data={
        "": ["*.json", "*.yaml", "*.ini"],
        "pioreactor.plugins_core.web": ["placeholder_ui/*"],
    },
)

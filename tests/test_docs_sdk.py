"""docs/plugins/sdk.md names every public name of pioreactor.sdk and its submodules.

A public name is one in a module's ``__all__``, or, for a module without ``__all__``, a class
or function defined in it whose name does not start with ``_``. Fast: imports only.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

SDK_PAGE = Path(__file__).resolve().parent.parent / "docs" / "plugins" / "sdk.md"


def sdk_modules() -> list[str]:
    import pioreactor.sdk

    names = ["pioreactor.sdk"]
    for info in pkgutil.walk_packages(pioreactor.sdk.__path__, "pioreactor.sdk."):
        names.append(info.name)
    return sorted(names)


def public_names(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", "") == module_name
    ]


@pytest.mark.parametrize("module_name", sdk_modules())
def test_sdk_reference_lists_every_public_name(module_name: str) -> None:
    page = SDK_PAGE.read_text(encoding="utf-8")
    assert f"`{module_name}`" in page, f"docs/plugins/sdk.md has no section for `{module_name}`"
    mentioned = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)", page))
    missing = [name for name in public_names(module_name) if name not in mentioned]
    assert not missing, (
        f"docs/plugins/sdk.md does not mention {missing} of {module_name}: add a row for each "
        "(or make the name private with a leading _)"
    )

"""``pioreactor.plugin_management``: ``get_plugins()`` as upstream offers it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Plugin:
    module: Any
    description: str
    version: str
    homepage: str
    author: str
    source: str


def get_plugins() -> dict[str, Plugin]:
    """Every plugin that loaded in this process, by name (core plugins excluded)."""
    from pioreactor.plugins_core.upstream_compat.loader import loaded_plugins

    return {
        name: Plugin(
            module,
            str(getattr(module, "__plugin_summary__", "")),
            str(getattr(module, "__plugin_version__", "")),
            str(getattr(module, "__plugin_homepage__", "")),
            str(getattr(module, "__plugin_author__", "")),
            source,
        )
        for name, (module, source) in loaded_plugins.items()
    }

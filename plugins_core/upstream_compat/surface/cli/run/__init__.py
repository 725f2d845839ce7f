"""``pioreactor.cli.run``: ``run``, the click group behind ``pio run``.

Upstream plugins decorate commands with ``@run.command(...)`` at import time; the compat
loader registers each as a ``pio run`` job of the plugin that added it.
"""

from __future__ import annotations

from typing import Any

import click


class RunGroup(click.Group):
    """Remembers which module added each command, so the loader can credit the right plugin."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        super().add_command(cmd, name)
        callback = getattr(cmd, "callback", None)
        cmd._upstream_module = getattr(callback, "__module__", None)  # type: ignore[attr-defined]


@click.group(cls=RunGroup)
def run() -> None:
    """Run a job (upstream plugins add theirs here)."""


def commands_of(module_name: str) -> dict[str, Any]:
    """The commands a module (or its submodules) added to ``run``."""
    return {
        name: cmd
        for name, cmd in run.commands.items()
        if (getattr(cmd, "_upstream_module", None) or "") == module_name
        or (getattr(cmd, "_upstream_module", None) or "").startswith(module_name + ".")
    }

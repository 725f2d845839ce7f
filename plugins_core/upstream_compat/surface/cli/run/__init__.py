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


def commands_of(module_name: str, group: click.Group | None = None) -> dict[str, Any]:
    """The commands a module (or one of its submodules) added to ``group`` (default: ``run``)."""

    def added_by(cmd: Any) -> bool:
        origin = getattr(cmd, "_upstream_module", None) or ""
        return origin == module_name or origin.startswith(module_name + ".")

    return {name: cmd for name, cmd in (group or run).commands.items() if added_by(cmd)}

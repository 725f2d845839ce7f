"""What plugins registered, for listings (``pio --help``, ``pio run --help``), served from the
plugin index when it is current, so listing imports neither pluggy nor any plugin."""

from __future__ import annotations

import sys
from typing import Any

from pioreactor.kernel import plugin_index
from pioreactor.kernel.discovery import PluginInfo, report_failures
from pioreactor.kernel.registries import Spec
from pioreactor.kernel.registries.targets import CommandRegistry, JobDefinitions


def _current_index() -> dict[str, Any] | None:
    plugins = sys.modules.get("pioreactor.kernel.plugins")
    if plugins is not None and getattr(plugins, "_host", None) is not None:
        return None  # plugins are loaded in this process already: ask them
    return plugin_index.load()


def _host() -> Any:
    from pioreactor.kernel.plugins import get_plugin_host

    return get_plugin_host()


def command_listing() -> CommandRegistry:
    """Plugins' top-level ``pio`` commands."""
    index = _current_index()
    if index is None or "commands" not in index:
        return _host().registry(CommandRegistry)
    registry = CommandRegistry()
    for name, target, plugin, summary in index["commands"]:
        registry.entries[name] = Spec(name, target, plugin, summary)
    return registry


def job_listing() -> JobDefinitions:
    """The registered jobs; plugins that failed are reported once on stderr."""
    index = _current_index()
    if index is None:
        host = _host()
        host.report_failures()
        return host.registry(JobDefinitions)
    failed = [
        PluginInfo(name, source, module, loaded=False, error=error, path=path)
        for name, source, module, error, path in index["failures"]
    ]
    report_failures(failed)
    registry = JobDefinitions()
    for name, target, plugin, summary in index["jobs"]:
        registry.entries[name] = Spec(name, target, plugin, summary)
    return registry

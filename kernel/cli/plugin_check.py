"""Checking that a plugin works as a whole: it imports, every registration hook succeeds, and every
target it registered can be loaded (jobs build their command line, parsers and factories import,
table migrations run on an empty database, dataset queries compile, UI forms name real jobs).

``pio plugins check NAME`` prints the result; ``pio plugins install`` runs the same check in a
fresh process before it keeps a new plugin; the documentation tests run it on the samples.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

from pioreactor.kernel.registries.data import DatabaseTableRegistry, ExportDatasetRegistry
from pioreactor.kernel.registries.targets import AutomationRegistry, JobDefinitions
from pioreactor.kernel.registries.ui import UiDescriptorRegistry


def register_everything(host: Any) -> None:
    """Call every registration hook of every plugin, so a failure anywhere marks its plugin failed."""
    from pioreactor.kernel.config import Config
    from pioreactor.kernel.config_defaults import declare_kernel_defaults

    host.all_registries()
    config = Config()  # the declared defaults only: a broken config.ini must not break listings
    declare_kernel_defaults(config)
    host.apply_config_defaults(config)


def registrations(host: Any, plugin: str) -> Iterator[tuple[Any, Any]]:
    """(registry, entry) for everything ``plugin`` registered."""
    for registry in host.all_registries():
        for entry in registry.entries.values():
            if getattr(entry, "plugin", None) == plugin:
                yield registry, entry


def _schema(host: Any) -> tuple[sqlite3.Connection, dict[str, str]]:
    """An in-memory database with every registered table's migrations applied; failures by table."""
    conn = sqlite3.connect(":memory:")
    failures = {}
    for spec in host.registry(DatabaseTableRegistry).entries.values():
        for number, script in enumerate(spec.migrations, start=1):
            try:
                conn.executescript(script)
            except sqlite3.Error as err:
                failures[spec.name] = f"migration {number} fails on an empty database: {err}"
                break
    return conn, failures


def check_plugin(host: Any, plugin: str, loadable: Callable[[str], bool] | None = None) -> list[str]:
    """Problems of ``plugin`` (an empty list when it works). ``host`` has registered everything.

    ``loadable(target)`` can exempt targets from being imported (the documentation tests use it
    for samples that name modules the page does not show).
    """
    loadable = loadable or (lambda target: True)
    info = host.by_name(plugin)
    if info is None:
        return [f"no plugin named {plugin!r} is installed (`pio plugins list` shows them)"]
    if not info.loaded:
        return [f"it failed to load ({info.error})"]
    problems = []
    conn, failed_tables = _schema(host)
    try:
        for registry, entry in registrations(host, plugin):
            try:
                if isinstance(registry, DatabaseTableRegistry):
                    if entry.name in failed_tables:
                        problems.append(f"table {entry.name!r}: {failed_tables[entry.name]}")
                elif isinstance(registry, ExportDatasetRegistry):
                    conn.execute(f"EXPLAIN SELECT * FROM ({entry.source_sql})")
                elif isinstance(registry, UiDescriptorRegistry):
                    problems.extend(_ui_problems(host, entry, conn, loadable))
                elif loadable(registry.target_of(entry) or ""):
                    registry.check_entry(entry)
            except Exception as err:
                problems.append(f"{registry.describe(registry.key_of(entry))}: {type(err).__name__}: {err}")
    finally:
        conn.close()
    return problems


def _ui_problems(
    host: Any, descriptor: Any, conn: sqlite3.Connection, loadable: Callable[[str], bool]
) -> list[str]:
    data = descriptor.data
    if descriptor.category == "chart" and data.get("table"):
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({data['table']!r})")}
        if not columns:
            return [f"chart {data['chart_key']!r} reads table {data['table']!r}, which no plugin declares"]
        if data.get("column") and data["column"] not in columns:
            return [f"chart {data['chart_key']!r} reads column {data['column']!r}, not in table {data['table']!r}"]
    if descriptor.category == "job":
        if data["job_name"] not in host.registry(JobDefinitions):
            return [f"the UI form of job {data['job_name']!r} names a job no plugin registers"]
        job = host.registry(JobDefinitions).get(data["job_name"])
        return _unknown_fields(descriptor, job.load()) if loadable(job.target) else []
    if descriptor.category == "automation":
        key = (data["kind"], data["automation_name"])
        if key not in host.registry(AutomationRegistry).entries:
            return [f"the UI form of {data['kind']} automation {data['automation_name']!r} names no registered automation"]
        automation = host.registry(AutomationRegistry).entries[key]
        return _unknown_fields(descriptor, automation.load()) if loadable(automation.target) else []
    return []


def _unknown_fields(descriptor: Any, target: Any) -> list[str]:
    """Form fields that are neither an option (``__init__`` parameter) nor a published setting."""
    import inspect

    if not inspect.isclass(target):
        return []  # a click command: its options are not introspected here
    known = set(inspect.signature(target.__init__).parameters)
    for klass in target.__mro__:
        known |= set(getattr(klass, "published_settings", {}) or {})
    unknown = [item["key"] for item in descriptor.data["fields"] if item["key"] not in known]
    if unknown:
        return [f"the UI form of {descriptor.name!r} has fields {unknown} that are neither options nor settings"]
    return []


def check_report(plugins: list[str] | None = None) -> dict[str, Any]:
    """Build the plugins of this process, register everything, and check ``plugins`` (default: all
    third-party ones). JSON-ready: every plugin's row, and problems by plugin."""
    from pioreactor.kernel.discovery import distribution_metadata
    from pioreactor.kernel.plugins import get_plugin_host

    host = get_plugin_host()
    register_everything(host)
    distribution_metadata(host.plugins)
    names = plugins if plugins is not None else [info.name for info in host.plugins if info.source != "core"]
    return {
        "plugins": [plugin_row(info) for info in host.plugins],
        "problems": {name: check_plugin(host, name) for name in names},
    }


def plugin_row(info: Any) -> dict[str, Any]:
    """What ``pio plugins list --json`` shows about one plugin."""
    return {
        "name": info.name,
        "version": info.metadata.get("version"),
        "source": info.source,
        "status": "loaded" if info.loaded else "failed",
        "error": info.error,
        "module": info.module,
        "path": info.path,
        "distribution": info.metadata.get("distribution"),
        "author": info.metadata.get("author"),
        "homepage": info.metadata.get("homepage"),
        "summary": info.metadata.get("summary"),
    }

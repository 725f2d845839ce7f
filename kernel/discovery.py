"""Finding plugins: entry points in the ``pioreactor.plugins`` group and single-file plugins.

stevedore loads the entry points with failure isolation (one broken package cannot stop the
others); files in ``$PIO_HOME/plugins/*.py`` are imported the same way under the name of the
file. Whatever fails is quarantined: recorded with its reason, reported once on stderr, and left
out, so every command keeps working.

Switches (environment variables):

* ``PIO_SKIP_PLUGINS=1``: load the core plugins only.
* ``PIO_DISABLED_PLUGINS=a,b``: never load these plugins.
* ``PIO_STRICT_PLUGINS=1``: raise instead of quarantining (for tests and plugin development).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pioreactor.kernel import paths
from pioreactor.kernel.errors import PioreactorError

GROUP = "pioreactor.plugins"
CORE_PREFIX = "pioreactor.plugins_core"
LOCAL_MODULE_PREFIX = "pioreactor_local_plugin_"

Source = Literal["core", "package", "file"]


@dataclass
class PluginInfo:
    """What `pio plugins list` shows about one plugin."""

    name: str
    source: Source
    module: str
    loaded: bool = True
    error: str | None = None
    traceback: str | None = None
    path: str | None = None
    module_object: Any = field(default=None, repr=False)
    metadata: dict[str, str | None] = field(default_factory=dict)

    def fail(self, where: str, err: BaseException) -> None:
        self.loaded = False
        self.error = f"{where}: {type(err).__name__}: {err}" if where else f"{type(err).__name__}: {err}"
        self.traceback = "".join(traceback.format_exception(err))


REINSTALL_HINT = "the pioreactor install is broken; reinstall it with: pip install --force-reinstall pioreactor"


class BrokenInstallError(PioreactorError):
    """A core plugin failed to load."""


_reported: set[str] = set()


def report_failures(failed: list[PluginInfo], stream: Any = None) -> None:
    """One line per failed plugin on stderr (once per process); a failed core plugin raises."""
    stream = stream or sys.stderr
    for info in failed:
        if info.name in _reported:
            continue
        _reported.add(info.name)
        if info.source == "core":
            raise BrokenInstallError(f"core plugin {info.name!r} failed ({info.error}); {REINSTALL_HINT}")
        where = info.path or info.module
        print(
            f"pio: plugin {info.name!r} ({where}) is disabled: {info.error}. "
            f"`pio plugins list` shows the details; uninstall or fix it.",
            file=stream,
        )


def _env_list(name: str) -> set[str]:
    return {item.strip() for item in os.environ.get(name, "").split(",") if item.strip()}


def strict() -> bool:
    return os.environ.get("PIO_STRICT_PLUGINS", "") == "1"


def skip_third_party() -> bool:
    return os.environ.get("PIO_SKIP_PLUGINS", "") == "1"


def source_of(value: str) -> Source:
    return "core" if value.startswith(CORE_PREFIX) else "package"


def _wanted(name: str, value: str) -> bool:
    if source_of(value) == "core":
        return True
    return not skip_third_party() and name not in _env_list("PIO_DISABLED_PLUGINS")


def import_entry_points(entry_points: list[tuple[str, str]]) -> list[PluginInfo]:
    """Import known entry points (name, ``module[:attr]``) directly, as stevedore would.

    Used when the plugin index is current, which spares importing stevedore and
    importlib.metadata (time and memory) in every process.
    """
    infos = []
    for name, value in entry_points:
        if not _wanted(name, value):
            continue
        info = PluginInfo(name, source_of(value), value)
        module_name, _, attribute = value.partition(":")
        try:
            plugin: Any = importlib.import_module(module_name)
            for part in filter(None, attribute.split(".")):
                plugin = getattr(plugin, part)
        except Exception as err:
            if strict():
                raise
            info.fail("import", err)
        else:
            info.module_object = plugin
        infos.append(info)
    return sorted(infos, key=lambda info: (info.source != "core", info.name))


def find_entry_point_plugins() -> tuple[list[PluginInfo], list[tuple[str, str]]]:
    """Import every allowed entry point of the group with stevedore (failures become failed
    `PluginInfo` rows); also return every (name, value) of the group, for the plugin index."""
    from stevedore import ExtensionManager

    infos: dict[str, PluginInfo] = {}

    class Extensions(ExtensionManager):  # type: ignore[type-arg,unused-ignore]
        """Skips disabled (or, with PIO_SKIP_PLUGINS, third-party) entry points before importing them."""

        def _load_one_plugin(self, ep: Any, *args: Any, **kwargs: Any) -> Any:
            if not _wanted(ep.name, ep.value):
                return None
            infos[ep.name] = PluginInfo(ep.name, source_of(ep.value), ep.value)
            return super()._load_one_plugin(ep, *args, **kwargs)

    def on_failure(_manager: Any, ep: Any, err: BaseException) -> None:
        if strict():
            raise err
        info = infos.setdefault(ep.name, PluginInfo(ep.name, source_of(ep.value), ep.value))
        info.fail("import", err)

    manager = Extensions(GROUP, on_load_failure_callback=on_failure)
    for extension in manager:
        infos[extension.name].module_object = extension.plugin
    everything = sorted({(ep.name, ep.value) for ep in manager.list_entry_points()})
    return sorted(infos.values(), key=lambda info: (info.source != "core", info.name)), everything


def find_file_plugins(folder: Path | None = None) -> list[PluginInfo]:
    """Import each ``*.py`` in ``$PIO_HOME/plugins`` (sorted by name) as a plugin named after the file."""
    if skip_third_party():
        return []
    folder = folder or paths.plugins_dir()
    if not folder.is_dir():
        return []
    disabled = _env_list("PIO_DISABLED_PLUGINS")
    infos = []
    for path in sorted(folder.glob("*.py")):
        name = path.stem
        if name.startswith("_") or name in disabled:
            continue
        module_name = LOCAL_MODULE_PREFIX + name
        info = PluginInfo(name, "file", module_name, path=str(path))
        try:
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot import {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        except Exception as err:
            sys.modules.pop(module_name, None)
            if strict():
                raise
            info.fail("import", err)
        else:
            info.module_object = module
            info.metadata = {
                key: str(getattr(module, f"__plugin_{key}__"))
                for key in ("name", "version", "author", "summary", "homepage")
                if hasattr(module, f"__plugin_{key}__")
            }
        infos.append(info)
    return infos


def distribution_metadata(infos: list[PluginInfo]) -> None:
    """Fill version, author, homepage and summary of package plugins (slow: only for listings)."""
    import importlib.metadata as md

    from pioreactor.kernel.version import __version__

    owners = md.packages_distributions()
    for info in infos:
        if info.source == "core":
            info.metadata.setdefault("version", __version__)
            info.metadata.setdefault("distribution", "pioreactor")
            continue
        if info.source != "package":
            continue
        top = info.module.split(":")[0].split(".")[0]
        for dist_name in owners.get(top, []):
            try:
                meta: Any = md.metadata(dist_name)
            except md.PackageNotFoundError:
                continue
            homepage = meta.get("Home-page")
            if not homepage:
                for url in meta.get_all("Project-URL") or []:
                    homepage = url.split(",", 1)[-1].strip()
                    break
            info.metadata.update(
                {
                    "distribution": meta.get("Name"),
                    "version": meta.get("Version"),
                    "author": meta.get("Author") or meta.get("Author-email"),
                    "homepage": homepage,
                    "summary": meta.get("Summary"),
                }
            )
            break

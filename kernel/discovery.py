"""Finding and importing plugins: the one discovery pipeline, its on-disk index, and listings.

:func:`discover` answers *which plugins exist*: the entry points of the ``pioreactor.plugins``
group (from the index when it is current, else a scan of the installed distributions) and the
files ``$PIO_HOME/plugins/*.py``. :func:`import_plugins` is the one import-and-quarantine loop:
it skips what the switches exclude, imports the rest, and records a failure instead of raising,
so one broken plugin never stops the others. :func:`job_listing` and :func:`command_listing`
answer ``pio --help`` and ``pio run --help`` from the index without importing any plugin.

Switches (environment variables):

* ``PIO_SKIP_PLUGINS=1``: load the core plugins only.
* ``PIO_LOAD_PLUGINS=a,b``: load only these plugins (and the essential ones).
* ``PIO_DISABLED_PLUGINS=a,b``: never load these plugins (core ones too, except the essential).
* ``PIO_STRICT_PLUGINS=1``: raise instead of quarantining (for tests and plugin development).
* ``PIO_NO_PLUGIN_INDEX=1``: scan the installed packages every time.

Why not stevedore: it was used for its failure isolation when importing entry points. But the
pipeline must (1) filter entry points by the switches *before* importing them, which stevedore's
public API cannot do (its ``check_func`` runs after the import; it took overriding a private
method), (2) import the entry points listed in the index without scanning distributions at all
(the scan and stevedore's import cost about 30 ms and 8 MB per process), and (3) put single-file
plugins through the same loop. ``importlib.metadata`` lists the entry points and the loop below
isolates failures in a dozen lines, so one loop serves all three and the dependency is gone.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pioreactor.kernel import paths
from pioreactor.kernel.errors import PioreactorError
from pioreactor.kernel.registries import load_target
from pioreactor.kernel.version import __version__

if TYPE_CHECKING:
    from pioreactor.kernel.registries.targets import CommandRegistry, JobDefinitions

GROUP = "pioreactor.plugins"
CORE_PREFIX = "pioreactor.plugins_core"
LOCAL_MODULE_PREFIX = "pioreactor_local_plugin_"
# core plugins that every process loads whatever the switches say: the kernel picks its
# hardware backend among them by name (``[hardware] backend = auto``)
ESSENTIAL_PLUGINS = frozenset({"simulator", "hardware_rpi"})
ENV_SWITCHES = ("PIO_SKIP_PLUGINS", "PIO_LOAD_PLUGINS", "PIO_DISABLED_PLUGINS", "PIO_STRICT_PLUGINS")
REINSTALL_HINT = "the pioreactor install is broken; reinstall it with: pip install --force-reinstall pioreactor"

Source = Literal["core", "package", "file"]


@dataclass
class PluginInfo:
    """What `pio plugins list` shows about one plugin."""

    name: str
    source: Source
    module: str  # ``module[:attribute]`` of an entry point, or the module name of a file
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


def forget_reported() -> None:
    """Report failures again (a process forked from one that reported them already)."""
    _reported.clear()


# -- switches --------------------------------------------------------------------------------
def _env_list(name: str) -> set[str]:
    return {item.strip() for item in os.environ.get(name, "").split(",") if item.strip()}


def strict() -> bool:
    return os.environ.get("PIO_STRICT_PLUGINS", "") == "1"


def skip_third_party() -> bool:
    return os.environ.get("PIO_SKIP_PLUGINS", "") == "1"


def source_of(value: str) -> Source:
    return "core" if value.startswith(CORE_PREFIX) else "package"


def wanted(name: str, source: Source) -> bool:
    """Whether the switches let plugin ``name`` load."""
    if source == "core" and name in ESSENTIAL_PLUGINS:
        if name in _env_list("PIO_DISABLED_PLUGINS"):
            print(f"pio: plugin {name!r} is essential and loads even though PIO_DISABLED_PLUGINS names it", file=sys.stderr)
        return True
    if source != "core" and skip_third_party():
        return False
    allowed = _env_list("PIO_LOAD_PLUGINS")
    if allowed and name not in allowed:
        return False
    return name not in _env_list("PIO_DISABLED_PLUGINS")


# -- discovery -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """A plugin that exists: an entry point (``module[:attribute]``) or a file."""

    name: str
    source: Source
    module: str
    path: str | None = None


@dataclass
class Discovery:
    candidates: list[Candidate]
    index: dict[str, Any] | None  # the index it came from, if it was current
    entry_points: list[tuple[str, str]]  # every (name, value) of the group, for the index


def discover(plugins_dir: Path | None = None) -> Discovery:
    """Every plugin of this environment, the entry points from the index when it is current."""
    index = load_index()
    entry_points = [(name, value) for name, value in index["entry_points"]] if index else scan_entry_points()
    candidates = [
        Candidate(name, source_of(value), value)
        for name, value in sorted(entry_points, key=lambda ep: (source_of(ep[1]) != "core", ep[0]))
    ]
    return Discovery(candidates + file_candidates(plugins_dir), index, entry_points)


def scan_entry_points() -> list[tuple[str, str]]:
    """Every (name, value) of the group in the installed distributions (the slow part)."""
    from importlib.metadata import entry_points

    return sorted({(ep.name, ep.value) for ep in entry_points(group=GROUP)})


def file_candidates(folder: Path | None = None) -> list[Candidate]:
    """``$PIO_HOME/plugins/*.py`` (sorted by name; files starting with ``_`` are not plugins)."""
    folder = folder or paths.plugins_dir()
    if not folder.is_dir():
        return []
    return [
        Candidate(path.stem, "file", LOCAL_MODULE_PREFIX + path.stem, str(path))
        for path in sorted(folder.glob("*.py"))
        if not path.stem.startswith("_")
    ]


def import_plugins(candidates: list[Candidate]) -> list[PluginInfo]:
    """The one import-and-quarantine loop: each wanted candidate imported, failures recorded."""
    infos = []
    for candidate in candidates:
        if not wanted(candidate.name, candidate.source):
            continue
        info = PluginInfo(candidate.name, candidate.source, candidate.module, path=candidate.path)
        try:
            info.module_object = _import_file(candidate) if candidate.path else load_target(candidate.module)
        except Exception as err:
            if strict():
                raise
            info.fail("import", err)
        else:
            if candidate.path:
                info.metadata = _file_metadata(info.module_object)
        infos.append(info)
    return infos


def _import_file(candidate: Candidate) -> Any:
    spec = importlib.util.spec_from_file_location(candidate.module, str(candidate.path))
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {candidate.path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[candidate.module] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(candidate.module, None)
        raise
    return module


def _file_metadata(module: Any) -> dict[str, str | None]:
    return {
        key: str(getattr(module, f"__plugin_{key}__"))
        for key in ("name", "version", "author", "summary", "homepage")
        if hasattr(module, f"__plugin_{key}__")
    }


def distribution_metadata(infos: list[PluginInfo]) -> None:
    """Fill version, author, homepage and summary of package plugins (slow: only for listings)."""
    import importlib.metadata as md

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


# -- the index: what the last scan found, while nothing that could change it has changed ------
def index_path() -> Path:
    return paths.pio_home() / "storage" / "plugin_index.json"


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def package_folders() -> list[str]:
    """Where distributions (and so entry points) can be installed: site folders and PYTHONPATH."""
    import site

    folders = list(site.getsitepackages())
    user = site.getusersitepackages()
    if isinstance(user, str):
        folders.append(user)
    folders.extend(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
    return folders


def fingerprint(module_files: list[str]) -> dict[str, Any]:
    """Everything that could change what discovery finds: installing or removing a package (the
    package folders' times), editing a plugin's module, a file plugin, and the switches."""
    plugins_dir = paths.plugins_dir()
    local_files = sorted(str(p) for p in plugins_dir.glob("*.py")) if plugins_dir.is_dir() else []
    return {
        "version": __version__,
        "env": {name: os.environ.get(name, "") for name in ENV_SWITCHES},
        "package_folders": {folder: _mtime(folder) for folder in package_folders()},
        "files": {path: _mtime(path) for path in sorted(set(module_files) | set(local_files))},
        "plugins_dir": _mtime(str(plugins_dir)),
    }


def stamped_paths(fingerprint: dict[str, Any]) -> list[tuple[str, float | None]]:
    """The (path, modification time) pairs of a ``fingerprint``. A process whose environment
    stays as it was (the fork server) tells a change of plugins by these alone: a file plugin
    added or removed changes the plugins folder's time."""
    return [
        *fingerprint["package_folders"].items(),
        *fingerprint["files"].items(),
        (str(paths.plugins_dir()), fingerprint["plugins_dir"]),
    ]


def paths_unchanged(stamped: list[tuple[str, float | None]]) -> bool:
    return all(_mtime(path) == mtime for path, mtime in stamped)


def index_enabled() -> bool:
    return os.environ.get("PIO_NO_PLUGIN_INDEX", "") != "1"


def load_index() -> dict[str, Any] | None:
    """The stored index if it still describes this environment, else None."""
    if not index_enabled():
        return None
    try:
        stored = json.loads(index_path().read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("fingerprint") != fingerprint(stored.get("module_files", [])):
        return None
    return stored


def save_index(contents: dict[str, Any], module_files: list[str]) -> None:
    if not index_enabled():
        return
    data = dict(contents, module_files=module_files, fingerprint=fingerprint(module_files))
    path = index_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only PIO_HOME only costs speed


# -- listings without importing plugins (pio --help, pio run --help) -------------------------
def _current_index() -> dict[str, Any] | None:
    plugins = sys.modules.get("pioreactor.kernel.plugins")
    if plugins is not None and getattr(plugins, "_host", None) is not None:
        return None  # plugins are loaded in this process already: ask them
    return load_index()


def _host() -> Any:
    from pioreactor.kernel.plugins import get_plugin_host

    return get_plugin_host()


def command_listing() -> CommandRegistry:
    """Plugins' top-level ``pio`` commands."""
    from pioreactor.kernel.registries import Spec
    from pioreactor.kernel.registries.targets import CommandRegistry

    index = _current_index()
    if index is None or "commands" not in index:
        return _host().registry(CommandRegistry)
    registry = CommandRegistry()
    for name, target, plugin, summary in index["commands"]:
        registry.entries[name] = Spec(name, target, plugin, summary)
    return registry


def job_listing() -> JobDefinitions:
    """The registered jobs; plugins that failed are reported once on stderr."""
    from pioreactor.kernel.registries import Spec
    from pioreactor.kernel.registries.targets import JobDefinitions

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

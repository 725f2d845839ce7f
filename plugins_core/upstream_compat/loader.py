"""How a plugin written for upstream Pioreactor becomes one of ours.

Upstream plugins implement no hooks: they register by side effect. For such a module the
plugin host asks ``pioreactor_adapt_plugin``, and we answer with an ``UpstreamPlugin`` whose
hook implementations register, under the plugin's own name:

* each module attribute named ``click_*`` holding a click command, and each command the plugin
  added with ``@run.command``, as a ``pio run`` job (``@calibration.command`` ones as
  ``pio run calibrations_<name>``);
* each subclass of a dosing, LED or temperature automation base with an ``automation_name``;
* the package's ``additional_config.ini`` as config defaults (``[PWM]`` and ``ui.*`` excepted:
  those are written to the config files by ``pio plugins install``);
* its UI descriptors (``ui/contrib/**.yaml`` or ``ui/**.yaml``), ``exportable_datasets/*.yaml``
  and ``additional_sql.sql``.

An entry that collides with another plugin's is skipped with one line on stderr, not the whole
plugin.
"""

from __future__ import annotations

import configparser
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from pioreactor.sdk import hookimpl

#: plugin name -> (module, source), for pioreactor.plugin_management.get_plugins()
loaded_plugins: dict[str, tuple[ModuleType, str]] = {}
AUTOMATION_KINDS = (
    ("pioreactor.automations.dosing.base", "DosingAutomationJob", "dosing"),
    ("pioreactor.automations.led.base", "LEDAutomationJob", "led"),
    ("pioreactor.automations.temperature.base", "TemperatureAutomationJob", "temperature"),
)
CONFIG_FILE = "additional_config.ini"
#: our own packages: a module importing only these is a native plugin
NATIVE = tuple(f"pioreactor.{name}" for name in ("sdk", "plugins_core", "kernel"))


def looks_upstream(module: ModuleType) -> bool:
    """Whether anything in the module says it was written for upstream's API."""
    if any(name.startswith(("click_", "__plugin_")) for name in vars(module)):
        return True
    return any(
        m == "pioreactor" or (m.startswith("pioreactor.") and not m.startswith(NATIVE))
        for m in _imported_modules(module)
    )


def _imported_modules(module: ModuleType) -> set[str]:
    found = set()
    for value in vars(module).values():
        origin = getattr(value, "__module__", None) if not isinstance(value, ModuleType) else value.__name__
        if isinstance(origin, str):
            found.add(origin)
    return found


def package_folder(module: ModuleType) -> Path | None:
    """The folder of a package plugin (None for a single-file plugin)."""
    path = getattr(module, "__file__", None)
    if not path or not path.endswith("__init__.py"):
        return None
    return Path(path).parent


def _say(message: str) -> None:
    print(f"pio: {message}", file=sys.stderr)


def _add(registry: Any, what: str, plugin: str, *args: Any, **kwargs: Any) -> None:
    """Add one entry; a collision skips this entry only (upstream plugins cannot be asked to rename)."""
    from pioreactor.sdk import PioreactorError

    try:
        registry.add(*args, **kwargs)
    except PioreactorError as err:
        _say(f"plugin {plugin!r}: {what} skipped: {err}")


class UpstreamPlugin:
    """Hook implementations on behalf of one upstream-style plugin module."""

    def __init__(self, name: str, module: ModuleType) -> None:
        self.name = name
        self.module = module
        self.folder = package_folder(module)

    # -- pio run ---------------------------------------------------------------------------------
    def commands(self) -> list[tuple[str, str, str]]:
        """(job name, target, summary) of every command the plugin offers."""
        import click
        from pioreactor.cli.calibrations import calibration
        from pioreactor.cli.run import commands_of, run

        found: list[tuple[str, str, str]] = []
        seen: set[int] = set()
        for attribute, value in sorted(vars(self.module).items()):
            if attribute.startswith("click_") and isinstance(value, click.Command):
                seen.add(id(value))
                found.append((value.name or attribute[6:], f"{self.module.__name__}:{attribute}", _summary(value)))
        for group, prefix in ((run, ""), (calibration, "calibrations_")):
            for name, command in commands_of(self.module.__name__, group).items():
                if id(command) in seen:
                    continue
                target = _target_of(command)
                if target is None:
                    _say(f"plugin {self.name!r}: command {name!r} is not reachable from a module attribute; skipped")
                    continue
                seen.add(id(command))
                found.append((prefix + name, target, _summary(command)))
        return found

    @hookimpl
    def pioreactor_register_jobs(self, registry: Any) -> None:
        for name, target, summary in self.commands():
            _add(registry, f"pio run {name}", self.name, name, target, summary=summary)

    # -- automations -----------------------------------------------------------------------------
    def automations(self) -> list[tuple[str, str, str, str]]:
        """(kind, automation_name, target, summary) of the plugin's automation classes."""
        from pioreactor.background_jobs.base import subclasses

        bases = []
        for module_name, class_name, kind in AUTOMATION_KINDS:
            module = sys.modules.get(module_name)
            if module is not None:
                bases.append((getattr(module, class_name), kind))
        found = []
        prefix = self.module.__name__
        for cls in subclasses:
            if not (cls.__module__ == prefix or cls.__module__.startswith(prefix + ".")):
                continue
            name = cls.__dict__.get("automation_name")
            if not name:
                continue
            for base, kind in bases:
                if issubclass(cls, base):
                    doc = (cls.__doc__ or "").strip().splitlines()
                    found.append((kind, name, f"{cls.__module__}:{cls.__qualname__}", doc[0] if doc else ""))
                    break
        return found

    @hookimpl
    def pioreactor_register_automations(self, registry: Any) -> None:
        for kind, name, target, summary in self.automations():
            _add(registry, f"{kind} automation {name!r}", self.name, kind, name, target, summary=summary)

    # -- config defaults -------------------------------------------------------------------------
    def config_sections(self) -> dict[str, dict[str, str]]:
        if self.folder is None or not (self.folder / CONFIG_FILE).is_file():
            return {}
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read(self.folder / CONFIG_FILE)
        except configparser.Error as err:
            _say(f"plugin {self.name!r}: {CONFIG_FILE} cannot be read ({err}); its defaults are skipped")
            return {}
        return {
            section: dict(parser[section])
            for section in parser.sections()
            if section != "PWM" and not section.startswith("ui.")
        }

    @hookimpl
    def pioreactor_register_config_defaults(self, defaults: Any) -> None:
        for section, values in self.config_sections().items():
            try:
                defaults.section(section, values)
            except Exception as err:
                _say(f"plugin {self.name!r}: defaults of [{section}] skipped: {err}")

    # -- UI, datasets, tables --------------------------------------------------------------------
    @hookimpl
    def pioreactor_register_ui_descriptors(self, registry: Any) -> None:
        from pioreactor.plugins_core.upstream_compat.assets import ui_descriptors

        if self.folder is None:
            return
        for category, descriptor in ui_descriptors(self.folder):
            adder = getattr(registry, f"add_{category}")
            _add(_Adder(adder), f"UI {category} descriptor", self.name, descriptor)

    @hookimpl
    def pioreactor_register_export_datasets(self, registry: Any) -> None:
        from pioreactor.plugins_core.upstream_compat.assets import export_datasets

        if self.folder is None:
            return
        for name, fields in export_datasets(self.folder):
            _add(registry, f"dataset {name!r}", self.name, name, **fields)

    @hookimpl
    def pioreactor_register_database_tables(self, registry: Any) -> None:
        from pioreactor.plugins_core.upstream_compat.assets import sql_tables

        if self.folder is None:
            return
        for table, script in sql_tables(self.folder):
            _add(registry, f"table {table!r}", self.name, table, migrations=script)


class _Adder:
    """Gives a bound ``add_*`` method the ``add`` name ``_add`` calls."""

    def __init__(self, method: Any) -> None:
        self.add = method


def _summary(command: Any) -> str:
    text = (command.short_help or command.help or "").strip()
    return text.splitlines()[0].strip() if text else ""


def _target_of(command: Any) -> str | None:
    """``module:attribute`` where the command is bound (the decorated function's name, usually)."""
    module = sys.modules.get(getattr(command, "_upstream_module", None) or "")
    if module is None:
        return None
    for attribute, value in vars(module).items():
        if value is command and attribute.isidentifier():
            return f"{module.__name__}:{attribute}"
    return None


def adapt(name: str, module: ModuleType) -> UpstreamPlugin | None:
    if not looks_upstream(module):
        return None
    loaded_plugins[name] = (module, "package" if package_folder(module) else "file")
    return UpstreamPlugin(name, module)

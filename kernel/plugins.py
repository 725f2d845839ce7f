"""The plugin manager: discovery, registration with pluggy, and the registries the hooks fill.

Registration hooks are called one plugin at a time, so a plugin whose hook raises is
quarantined (its partial registrations rolled back) while every other plugin still registers.
A broken *core* plugin means a broken install: commands that need plugins stop with a
reinstall hint.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy
from pioreactor.kernel import hookspecs, plugin_index
from pioreactor.kernel.asset_registries import (
    DatabaseTableRegistry,
    ExportDatasetRegistry,
    MqttSinkRegistry,
    UiDescriptorRegistry,
)
from pioreactor.kernel.config import Config
from pioreactor.kernel.discovery import (
    PluginInfo,
    find_entry_point_plugins,
    find_file_plugins,
    import_entry_points,
    report_failures,
    strict,
)

if TYPE_CHECKING:
    from pioreactor.kernel.web_routes import WebRouteRegistry
from pioreactor.kernel.registries import (
    AutomationRegistry,
    CalibrationProtocolRegistry,
    CommandRegistry,
    ConfigDefaults,
    ExpressionFunctionRegistry,
    HardwareBackendRegistry,
    JobRegistry,
    ProfileActionRegistry,
)

PROJECT = "pioreactor"


class PluginHost:
    """Every plugin of this process, registered with pluggy, and what their hooks registered."""

    def __init__(self, plugins: list[PluginInfo]) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins = plugins
        self._registries: dict[str, Any] = {}
        for info in plugins:
            if info.loaded and info.module_object is not None:
                self._register(info)

    def _register(self, info: PluginInfo) -> None:
        try:
            self.pm.register(info.module_object, name=info.name)
            unknown = [
                caller.name
                for caller in self.pm.get_hookcallers(info.module_object) or []
                if not caller.has_spec()
            ]
            if unknown:
                raise pluggy.PluginValidationError(
                    info.module_object,
                    f"unknown hooks {unknown}; check their spelling against the hook reference",
                )
        except (ValueError, pluggy.PluginValidationError) as err:
            if self.pm.is_registered(info.module_object):
                self.pm.unregister(info.module_object)
            if strict():
                raise
            info.fail("register", err)

    @property
    def failed(self) -> list[PluginInfo]:
        return [info for info in self.plugins if not info.loaded]

    def by_name(self, name: str) -> PluginInfo | None:
        return next((info for info in self.plugins if info.name == name), None)

    # -- registration hooks ------------------------------------------------------------------
    def _call_registration(
        self, hook_name: str, make_arg: Callable[[str], Any], rollback: Callable[[str], None]
    ) -> None:
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():  # registration order: core plugins first
            info = self.by_name(impl.plugin_name)
            if info is None or not info.loaded:
                continue
            try:
                impl.function(*[make_arg(impl.plugin_name) for _ in impl.argnames])
            except Exception as err:
                rollback(impl.plugin_name)
                if strict():
                    raise
                info.fail(hook_name, err)
                if info.source != "core":
                    self.pm.unregister(name=info.name)

    def _registry(self, hook_name: str, registry: Any) -> Any:
        """``registry`` filled by every plugin's ``hook_name`` (built once per process)."""
        if hook_name not in self._registries:

            def rollback(plugin: str) -> None:
                for key in [k for k, spec in registry.entries.items() if spec.plugin == plugin]:
                    del registry.entries[key]

            self._call_registration(hook_name, registry.scoped, rollback)
            self._registries[hook_name] = registry
        return self._registries[hook_name]

    def jobs(self) -> JobRegistry:
        return self._registry("pioreactor_register_jobs", JobRegistry())

    def commands(self) -> CommandRegistry:
        from pioreactor.kernel.cli import SUBCOMMANDS

        registry = CommandRegistry()
        registry.reserved = frozenset(SUBCOMMANDS)
        return self._registry("pioreactor_register_commands", registry)

    def backends(self) -> HardwareBackendRegistry:
        return self._registry("pioreactor_register_hardware_backends", HardwareBackendRegistry())

    def automations(self) -> AutomationRegistry:
        return self._registry("pioreactor_register_automations", AutomationRegistry())

    def calibration_protocols(self) -> CalibrationProtocolRegistry:
        return self._registry("pioreactor_register_calibration_protocols", CalibrationProtocolRegistry())

    def profile_actions(self) -> ProfileActionRegistry:
        return self._registry("pioreactor_register_profile_actions", ProfileActionRegistry())

    def expression_functions(self) -> ExpressionFunctionRegistry:
        return self._registry("pioreactor_register_expression_functions", ExpressionFunctionRegistry())

    def database_tables(self) -> DatabaseTableRegistry:
        return self._registry("pioreactor_register_database_tables", DatabaseTableRegistry())

    def mqtt_sinks(self) -> MqttSinkRegistry:
        return self._registry("pioreactor_register_mqtt_sinks", MqttSinkRegistry())

    def export_datasets(self) -> ExportDatasetRegistry:
        return self._registry("pioreactor_register_export_datasets", ExportDatasetRegistry())

    def web_routes(self) -> WebRouteRegistry:
        from pioreactor.kernel.web_routes import WebRouteRegistry

        return self._registry("pioreactor_register_web_routes", WebRouteRegistry())

    def ui_descriptors(self) -> UiDescriptorRegistry:
        return self._registry("pioreactor_register_ui_descriptors", UiDescriptorRegistry())

    def call_runtime_hook(self, name: str, **kwargs: Any) -> None:
        """Call a runtime hook on every plugin; one plugin's exception is reported, not fatal."""
        for impl in getattr(self.pm.hook, name).get_hookimpls():
            try:
                impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            except Exception as err:
                print(
                    f"pio: plugin {impl.plugin_name!r} failed in {name}: {type(err).__name__}: {err}",
                    file=sys.stderr,
                )

    def apply_config_defaults(self, config: Config) -> None:
        defaults = ConfigDefaults(config)

        def rollback(plugin: str) -> None:
            for key in [k for k, d in config.declared.items() if d.plugin == plugin]:
                del config.declared[key]

        self._call_registration("pioreactor_register_config_defaults", defaults.scoped, rollback)

    def report_failures(self) -> None:
        report_failures(self.failed)

    def module_files(self) -> list[str]:
        files = []
        for info in self.plugins:
            path = info.path or getattr(info.module_object, "__file__", None)
            if path:
                files.append(str(path))
        return files


_host: PluginHost | None = None


def get_plugin_host() -> PluginHost:
    """Discover, import and register every plugin of this process (once)."""
    global _host
    if _host is None:
        index = plugin_index.load()
        if index is not None:
            entry_points = [(name, value) for name, value in index["entry_points"]]
            _host = PluginHost(import_entry_points(entry_points) + find_file_plugins())
        else:
            plugins, entry_points = find_entry_point_plugins()
            _host = PluginHost(plugins + find_file_plugins())
            _save_index(_host, entry_points)
    return _host


def _save_index(host: PluginHost, entry_points: list[tuple[str, str]]) -> None:
    jobs = host.jobs()
    plugin_index.save(
        {
            "entry_points": entry_points,
            "jobs": [[s.name, s.target, s.plugin, s.summary] for s in jobs.entries.values()],
            "commands": [[s.name, s.target, s.plugin, s.summary] for s in host.commands().entries.values()],
            "failures": [[i.name, i.source, i.module, i.error, i.path] for i in host.failed],
        },
        host.module_files(),
    )


def reset_plugin_host() -> None:
    global _host
    _host = None


def load_config_with_plugins(overrides: Any = ()) -> Config:
    """The process config with every plugin's declared defaults underneath the files."""
    from pioreactor.kernel.config import load_config, set_config

    config = load_config(overrides)
    get_plugin_host().apply_config_defaults(config)
    set_config(config)
    return config

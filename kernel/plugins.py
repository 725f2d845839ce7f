"""The plugin manager: discovery, registration with pluggy, and the registries the hooks fill.

Registration hooks are called one plugin at a time, so a plugin whose hook raises is
quarantined (its partial registrations rolled back) while every other plugin still registers.
A broken *core* plugin means a broken install: commands that need plugins stop with a
reinstall hint.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pluggy
from pioreactor.kernel import hookspecs, plugin_index
from pioreactor.kernel.config import Config
from pioreactor.kernel.discovery import (
    PluginInfo,
    find_entry_point_plugins,
    find_file_plugins,
    import_entry_points,
    report_failures,
    strict,
)
from pioreactor.kernel.registries import (
    AutomationRegistry,
    CalibrationProtocolRegistry,
    CommandRegistry,
    ConfigDefaults,
    ExpressionFunctionRegistry,
    HardwareBackendRegistry,
    JobRegistry,
    ProfileActionRegistry,
    SpecRegistry,
)

PROJECT = "pioreactor"


class PluginHost:
    """Every plugin of this process, registered with pluggy, and what their hooks registered."""

    def __init__(self, plugins: list[PluginInfo]) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins = plugins
        self._jobs: JobRegistry | None = None
        self._backends: HardwareBackendRegistry | None = None
        self._automations: AutomationRegistry | None = None
        self._commands: CommandRegistry | None = None
        self._protocols: CalibrationProtocolRegistry | None = None
        self._profile_actions: ProfileActionRegistry | None = None
        self._expression_functions: ExpressionFunctionRegistry | None = None
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

    @staticmethod
    def _spec_rollback(registry: SpecRegistry[Any]) -> Callable[[str], None]:
        def rollback(plugin: str) -> None:
            for name in [n for n, spec in registry.entries.items() if spec.plugin == plugin]:
                del registry.entries[name]

        return rollback

    def jobs(self) -> JobRegistry:
        if self._jobs is None:
            registry = JobRegistry()
            self._call_registration(
                "pioreactor_register_jobs", registry.scoped, self._spec_rollback(registry)
            )
            self._jobs = registry
        return self._jobs

    def commands(self) -> CommandRegistry:
        if self._commands is None:
            from pioreactor.kernel.cli import SUBCOMMANDS

            registry = CommandRegistry()
            registry.reserved = frozenset(SUBCOMMANDS)
            self._call_registration(
                "pioreactor_register_commands", registry.scoped, self._spec_rollback(registry)
            )
            self._commands = registry
        return self._commands

    def backends(self) -> HardwareBackendRegistry:
        if self._backends is None:
            registry = HardwareBackendRegistry()
            self._call_registration(
                "pioreactor_register_hardware_backends", registry.scoped, self._spec_rollback(registry)
            )
            self._backends = registry
        return self._backends

    def automations(self) -> AutomationRegistry:
        if self._automations is None:
            registry = AutomationRegistry()

            def rollback(plugin: str) -> None:
                for key in [k for k, spec in registry.entries.items() if spec.plugin == plugin]:
                    del registry.entries[key]

            self._call_registration("pioreactor_register_automations", registry.scoped, rollback)
            self._automations = registry
        return self._automations

    def calibration_protocols(self) -> CalibrationProtocolRegistry:
        if self._protocols is None:
            registry = CalibrationProtocolRegistry()

            def rollback(plugin: str) -> None:
                for key in [k for k, spec in registry.entries.items() if spec.plugin == plugin]:
                    del registry.entries[key]

            self._call_registration("pioreactor_register_calibration_protocols", registry.scoped, rollback)
            self._protocols = registry
        return self._protocols

    def profile_actions(self) -> ProfileActionRegistry:
        if self._profile_actions is None:
            registry = ProfileActionRegistry()
            self._call_registration(
                "pioreactor_register_profile_actions", registry.scoped, self._spec_rollback(registry)
            )
            self._profile_actions = registry
        return self._profile_actions

    def expression_functions(self) -> ExpressionFunctionRegistry:
        if self._expression_functions is None:
            registry = ExpressionFunctionRegistry()
            self._call_registration(
                "pioreactor_register_expression_functions", registry.scoped, self._spec_rollback(registry)
            )
            self._expression_functions = registry
        return self._expression_functions

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

"""The plugin host: the plugins that :mod:`~pioreactor.kernel.discovery` found, registered with
pluggy; the registries their registration hooks fill; and calling runtime hooks.

Registration hooks are called one plugin at a time, so a plugin whose hook raises is
quarantined (its partial registrations rolled back) while every other plugin still registers.
Runtime hooks go through :func:`call_hook` (pluggy's order, wrappers, each failure isolated).
A broken *core* plugin means a broken install: commands that need plugins stop with a
reinstall hint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pluggy
from pioreactor.kernel import discovery, hook_calls, hookspecs
from pioreactor.kernel.config import Config
from pioreactor.kernel.discovery import PluginInfo, report_failures, strict
from pioreactor.kernel.hook_calls import HookOutcome, OnError
from pioreactor.kernel.hookspecs import REGISTRATION_HOOKS
from pioreactor.kernel.registries import Registry, load_target
from pioreactor.kernel.registries.targets import CommandRegistry, ConfigDefaults, JobDefinitions

R = TypeVar("R", bound=Registry[Any])
REGISTRIES_PACKAGE = "pioreactor.kernel.registries"

PROJECT = "pioreactor"


class PluginHost:
    """Every plugin of this process, registered with pluggy, and what their hooks registered."""

    def __init__(self, plugins: list[PluginInfo]) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins = plugins
        self._registries: dict[str, Any] = {}
        self._config_defaults: Config | None = None
        # plugins add hook specs of their own; each is called as it registers (pytest_addhooks)
        self.pm.hook.pioreactor_addhooks.call_historic(kwargs={"pluginmanager": self.pm})
        registered = [info for info in plugins if info.loaded and info.module_object is not None]
        for info in registered:
            self._guard(info, self._register)
        # only now are all specs known: a hook no plugin declared is a typo
        for info in registered:
            if info.loaded:
                self._guard(info, self._check_known_hooks)

    def _register(self, info: PluginInfo) -> None:
        # an upstream-style module (no hooks of its own) may be registered through an adapter
        self.pm.register(self._adapted(info), name=info.name)

    def _check_known_hooks(self, info: PluginInfo) -> None:
        plugin = self.pm.get_plugin(info.name) or info.module_object
        unknown = [caller.name for caller in self.pm.get_hookcallers(plugin) or [] if not caller.has_spec()]
        if unknown:
            raise pluggy.PluginValidationError(
                plugin, f"unknown hooks {unknown}; check their spelling against the hook reference"
            )

    def _guard(self, info: PluginInfo, step: Callable[[PluginInfo], None]) -> None:
        """Run one registration step of a plugin; if it fails, the plugin is quarantined."""
        try:
            step(info)
        except Exception as err:
            registered = self.pm.get_plugin(info.name)
            if registered is not None:
                self.pm.unregister(registered)
            if strict():
                raise
            info.fail("register", err)

    def _adapted(self, info: PluginInfo) -> Any:
        """The module, or what an adapter plugin offers in its place for a module without hooks
        (see ``pioreactor_adapt_plugin``: how plugins written for upstream Pioreactor load)."""
        module = info.module_object
        if info.source == "core" or any(n.startswith("pioreactor_") and n in dir(module) for n in self._hook_names()):
            return module
        adapter = self.pm.hook.pioreactor_adapt_plugin(name=info.name, module=module)
        return module if adapter is None else adapter

    def _hook_names(self) -> list[str]:
        return [name for name in dir(self.pm.hook) if name.startswith("pioreactor_")]

    @property
    def failed(self) -> list[PluginInfo]:
        return [info for info in self.plugins if not info.loaded]

    def by_name(self, name: str) -> PluginInfo | None:
        return next((info for info in self.plugins if info.name == name), None)

    # -- registration hooks ------------------------------------------------------------------
    def fill(self, registry: R, hook_name: str | None = None) -> R:
        """Call every plugin's registration hook on ``registry``, one plugin at a time (core ones
        first), each with the view scoped to it, then add what the plugin's entries in other
        registries contribute (a time series' table, ...). A plugin that fails is quarantined and
        leaves none of its entries behind, in this registry or any built before."""
        hook_name = hook_name or hook_for(type(registry))
        impls = {impl.plugin_name: impl for impl in getattr(self.pm.hook, hook_name).get_hookimpls()}
        sources = [
            (self.registry(load_target(f"{REGISTRIES_PACKAGE}.{target}")), attribute)
            for target, attribute in registry.contributions
        ]
        for info in self.plugins:
            impl = impls.get(info.name)
            if not info.loaded or (impl is None and not sources):
                continue
            try:
                if impl is not None:
                    impl.function(*[registry.scoped(info.name) for _ in impl.argnames])
                for source, attribute in sources:
                    for entry in list(source.entries.values()):
                        derived = getattr(entry, attribute)
                        if entry.plugin == info.name and derived is not None:
                            registry.put(derived)
            except Exception as err:
                for built in (registry, *self._registries.values()):  # all it registered anywhere
                    built.rollback(info.name)
                if strict():
                    raise
                info.fail(hook_name, err)
                if info.source != "core" and self.pm.is_registered(info.module_object):
                    self.pm.unregister(info.module_object)
        return registry

    def registry(self, registry_class: type[R]) -> R:
        """The registry of ``registry_class`` filled by every plugin (built once per process)."""
        hook_name = hook_for(registry_class)
        if hook_name not in self._registries:
            self._registries[hook_name] = self.fill(registry_class(), hook_name)
        registry: R = self._registries[hook_name]
        return registry

    def call_hook(
        self,
        name: str,
        kwargs: dict[str, Any] | None = None,
        *,
        on_error: OnError | None = None,
        until: Callable[[str], bool] | None = None,
    ) -> HookOutcome:
        """Call runtime hook ``name`` on every plugin in pluggy's order (``tryfirst``, wrappers, ...);
        a plugin's exception goes to ``on_error`` (default: one line on stderr), not to the caller."""
        return hook_calls.call_hook(getattr(self.pm.hook, name), kwargs or {}, on_error=on_error, until=until)

    def all_registries(self) -> list[Registry[Any]]:
        """Every registry that a registration hook fills (config defaults aside: they fill a config)."""
        return [
            self.registry(load_target(target))
            for target in REGISTRATION_HOOKS.values()
            if not target.endswith(":ConfigDefaults")
        ]

    def apply_config_defaults(self, config: Config) -> None:
        self.fill(ConfigDefaults(config))

    def config_defaults(self) -> Config:
        """The kernel's and every plugin's declared defaults, built once per host (never handed
        out: `load_config_with_plugins` derives from it)."""
        if self._config_defaults is None:
            from pioreactor.kernel.config import kernel_defaults

            config = kernel_defaults().derive()
            self.apply_config_defaults(config)
            self._config_defaults = config
        return self._config_defaults

    def report_failures(self) -> None:
        report_failures(self.failed)

    def module_files(self) -> list[str]:
        files = []
        for info in self.plugins:
            path = info.path or getattr(info.module_object, "__file__", None)
            if path:
                files.append(str(path))
        return files


def hook_for(registry_class: type[Registry[Any]]) -> str:
    """The registration hook that fills ``registry_class`` (from the table beside the hookspecs)."""
    target = f"{registry_class.__module__}:{registry_class.__qualname__}"
    for hook_name, registry_target in REGISTRATION_HOOKS.items():
        if registry_target == target:
            return hook_name
    raise LookupError(f"no registration hook fills {target}; declare one in kernel/hookspecs.py")


_host: PluginHost | None = None


def get_plugin_host() -> PluginHost:
    """Discover, import and register every plugin of this process (once)."""
    global _host
    if _host is None:
        found = discovery.discover()
        _host = PluginHost(discovery.import_plugins(found.candidates))
        if found.index is None:
            _save_index(_host, found.entry_points)
    return _host


def _save_index(host: PluginHost, entry_points: list[tuple[str, str]]) -> None:
    def rows(registry: Registry[Any]) -> list[list[str]]:
        return [[s.name, s.target, s.plugin, s.summary] for s in registry.entries.values()]

    discovery.save_index(
        {
            "entry_points": entry_points,
            "jobs": rows(host.registry(JobDefinitions)),
            "commands": rows(host.registry(CommandRegistry)),
            "failures": [[i.name, i.source, i.module, i.error, i.path] for i in host.failed],
        },
        host.module_files(),
    )


def call_hook(
    name: str,
    kwargs: dict[str, Any] | None = None,
    *,
    on_error: OnError | None = None,
    until: Callable[[str], bool] | None = None,
) -> HookOutcome:
    """Call runtime hook ``name`` on every plugin of this process (see :meth:`PluginHost.call_hook`)."""
    return get_plugin_host().call_hook(name, kwargs, on_error=on_error, until=until)


def reset_plugin_host() -> None:
    global _host
    _host = None


def load_config_with_plugins(overrides: Any = ()) -> Config:
    """The process config with every plugin's declared defaults underneath the files."""
    from pioreactor.kernel.config import load_config, set_config

    config = load_config(overrides, declared=get_plugin_host().config_defaults())
    set_config(config)
    return config

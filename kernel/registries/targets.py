"""The registries of lazy targets (jobs, commands, backends, automations, ...) and of config
defaults. Each names the hook that fills it in :mod:`pioreactor.kernel.hookspecs`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pioreactor.kernel.errors import RegistrationError
from pioreactor.kernel.registries import KindRegistry, Registry, Spec, TargetRegistry

if TYPE_CHECKING:
    from pioreactor.kernel.config import Config, Limits

# topics of the kernel's own under pioreactor/<unit>/<experiment>/ (plugins reserve theirs)
KERNEL_TOPIC_NAMES = ("run", "logs", "pwms")


def check_settings(target: Any) -> None:
    """A job or automation class declares its published settings well (checked at start otherwise)."""
    import inspect

    if inspect.isclass(target) and hasattr(target, "all_published_settings"):
        from pioreactor.kernel.settings import check_published_settings

        check_published_settings(getattr(target, "job_name", "") or target.__name__, target.all_published_settings())


class JobDefinitions(TargetRegistry):
    """The jobs and actions that ``pio run NAME`` starts (not the running ones: see
    :class:`pioreactor.kernel.job_registry.RunningJobs`)."""

    kind = "job"

    def __init__(self) -> None:
        super().__init__()
        self.reserved.update(dict.fromkeys(KERNEL_TOPIC_NAMES, "kernel"))

    def check_entry(self, entry: Spec) -> None:
        from pioreactor.kernel.cli.job_command import command_for

        command_for(entry)  # imports the target and turns its __init__ into options
        check_settings(entry.load())


class CommandRegistry(TargetRegistry):
    """Top-level ``pio NAME`` commands."""

    kind = "command"

    def __init__(self) -> None:
        from pioreactor.kernel.cli.root import SUBCOMMANDS

        super().__init__()
        self.reserved.update(dict.fromkeys(SUBCOMMANDS, "kernel"))

    def check_name(self, value: Any, what: str = "name", pattern: Any = None) -> str:
        # command names may use dashes, as click's do
        super().check_name(value.replace("-", "_") if isinstance(value, str) else value, what)
        return str(value)

    def check_entry(self, entry: Spec) -> None:
        import click

        if not isinstance(entry.load(), click.Command):
            raise TypeError(f"{entry.target} is not a click command")


class HardwareBackendRegistry(TargetRegistry):
    kind = "hardware backend"


class ProfileActionRegistry(TargetRegistry):
    kind = "profile action"


class ExpressionFunctionRegistry(TargetRegistry):
    kind = "expression function"


class AutomationRegistry(KindRegistry):
    """Automations by kind and name, run by ``<kind>_automation``."""

    kind = "automation"

    def check_entry(self, entry: Spec) -> None:
        check_settings(entry.load())


class CalibrationProtocolRegistry(KindRegistry):
    """Calibration protocols by device and protocol name (``registry.add(device, name, target)``)."""

    kind = "calibration protocol"

    def describe(self, key: Any) -> str:
        return f"calibration protocol {key[1]!r} for {key[0]}"

    def not_found(self, key: Any) -> str:
        known = list(self.of_kind(key[0]))
        return f"no calibration protocol {key[1]!r} for {key[0]}. Available: {', '.join(known) or 'none'}."


class ConfigDefaults(Registry[Any]):
    """The config keys plugins declare, kept in ``config.declared`` and attributed to each plugin."""

    kind = "config key"

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.entries = config.editable_declarations()  # rollback forgets a failed plugin's declarations

    def rollback(self, plugin: str) -> None:
        super().rollback(plugin)
        self.config.editable_declarations()  # what was derived from the declarations is stale

    def describe(self, key: Any) -> str:
        return f"config key [{key[0]}] {key[1]}"

    def section(
        self, section: str, values: Mapping[str, Any], *, limits: Mapping[str, Limits] | None = None
    ) -> None:
        """Declare keys of ``section`` with their defaults (their types are enforced on read).

        ``limits`` maps some of the keys to a :class:`~pioreactor.kernel.config.Limits` (a
        range, or the words accepted); a value outside is refused naming the file, section and key."""
        limits = dict(limits or {})
        unknown = set(limits) - set(values)
        if unknown:
            raise RegistrationError(f"limits given for undeclared keys of [{section}]: {sorted(unknown)}")
        for key, value in values.items():
            existing = self.config.declared.get((section, key))
            # a plugin may change a default the kernel declared, or its own
            if existing is not None and existing.plugin not in ("kernel", self.plugin):
                raise self.collision((section, key), existing.plugin, self.plugin)
            self.config.declare(section, key, value, plugin=self.plugin, limits=limits.get(key))


__all__ = [
    "AutomationRegistry",
    "CalibrationProtocolRegistry",
    "CommandRegistry",
    "ConfigDefaults",
    "ExpressionFunctionRegistry",
    "HardwareBackendRegistry",
    "JobDefinitions",
    "ProfileActionRegistry",
    "Spec",
]

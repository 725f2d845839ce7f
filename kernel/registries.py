"""Typed registries that registration hooks fill.

Each hook receives a view scoped to the calling plugin, so every entry knows where it came from
and a collision can name both plugins. Entries hold ``"module:attribute"`` strings and are
imported only when used.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pioreactor.kernel.errors import JobNotFoundError, RegistrationError

if TYPE_CHECKING:
    from pioreactor.kernel.config import Config, Limits

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
TARGET_PATTERN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
# names that already mean something else in upstream's topic tree
RESERVED_JOB_NAMES = frozenset(
    {"run", "dosing_events", "leds", "led_change_events", "unit_label", "pwms", "logs"}
)


@dataclass(frozen=True)
class Spec:
    """Something a plugin registered: a name, a lazy target and one line of help."""

    name: str
    target: str
    plugin: str
    summary: str = ""

    def load(self) -> Any:
        """Import the target (``module:attribute``) and return the attribute."""
        module_name, _, attribute = self.target.partition(":")
        module = importlib.import_module(module_name)
        value: Any = module
        for part in attribute.split("."):
            value = getattr(value, part)
        return value


class JobSpec(Spec):
    """A job or action that ``pio run NAME`` starts."""


class BackendSpec(Spec):
    """A hardware backend that ``[hardware] backend = NAME`` selects."""


S = TypeVar("S", bound=Spec)


class SpecRegistry(Generic[S]):
    kind = "entry"
    spec_class: type[S]

    def __init__(self) -> None:
        self.entries: dict[str, S] = {}

    def scoped(self, plugin: str) -> ScopedRegistry[S]:
        return ScopedRegistry(self, plugin)

    def validate(self, name: str, target: str, plugin: str) -> None:
        if not NAME_PATTERN.match(name):
            raise RegistrationError(
                f"plugin {plugin!r} registered the {self.kind} name {name!r}: "
                "names are lowercase letters, digits and underscores, starting with a letter"
            )
        if not TARGET_PATTERN.match(target):
            raise RegistrationError(
                f"plugin {plugin!r} registered {self.kind} {name!r} with target {target!r}: "
                "expected 'package.module:Attribute'"
            )

    def _add(self, plugin: str, name: str, target: str, summary: str) -> None:
        self.validate(name, target, plugin)
        existing = self.entries.get(name)
        if existing is not None:
            raise RegistrationError(
                f"{self.kind} {name!r} is registered by both plugin {existing.plugin!r} "
                f"and plugin {plugin!r}; uninstall or disable one of them"
            )
        self.entries[name] = self.spec_class(name, target, plugin, summary)

    def get(self, name: str) -> S:
        try:
            return self.entries[name]
        except KeyError:
            import difflib  # only on a miss

            close = difflib.get_close_matches(name, list(self.entries), n=3)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise JobNotFoundError(
                f"no {self.kind} named {name!r} is registered.{hint} "
                "`pio plugins list` shows the installed plugins."
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def names(self) -> list[str]:
        return sorted(self.entries)


class ScopedRegistry(Generic[S]):
    """The view a plugin's hook receives; entries are attributed to that plugin."""

    def __init__(self, registry: SpecRegistry[S], plugin: str) -> None:
        self._registry = registry
        self.plugin = plugin

    def add(self, name: str, target: str, *, summary: str = "") -> None:
        """Register ``name`` with a lazy ``"module:attribute"`` target and a one-line summary."""
        self._registry._add(self.plugin, name, target, summary)


class JobRegistry(SpecRegistry[JobSpec]):
    kind = "job"
    spec_class = JobSpec

    def validate(self, name: str, target: str, plugin: str) -> None:
        super().validate(name, target, plugin)
        if name in RESERVED_JOB_NAMES:
            raise RegistrationError(f"plugin {plugin!r} registered job {name!r}, a reserved topic name")


class CommandSpec(Spec):
    """A top-level ``pio NAME`` command."""


class CommandRegistry(SpecRegistry[CommandSpec]):
    kind = "command"
    spec_class = CommandSpec
    reserved: frozenset[str] = frozenset()

    def validate(self, name: str, target: str, plugin: str) -> None:
        super().validate(name.replace("-", "_"), target, plugin)
        if name in self.reserved:
            raise RegistrationError(f"plugin {plugin!r} registered the command {name!r}, one of pio's own")


class ProfileActionRegistry(SpecRegistry[Spec]):
    kind = "profile action"
    spec_class = Spec


class ExpressionFunctionRegistry(SpecRegistry[Spec]):
    kind = "expression function"
    spec_class = Spec


class HardwareBackendRegistry(SpecRegistry[BackendSpec]):
    kind = "hardware backend"
    spec_class = BackendSpec


@dataclass(frozen=True)
class AutomationSpec(Spec):
    """An automation of a kind (``temperature``, ``led``, ``dosing``) run by ``<kind>_automation``."""

    kind: str = ""


class AutomationRegistry:
    """Automations by kind and name; collisions name both plugins."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], AutomationSpec] = {}

    def scoped(self, plugin: str) -> ScopedAutomationRegistry:
        return ScopedAutomationRegistry(self, plugin)

    def _add(self, plugin: str, kind: str, name: str, target: str, summary: str) -> None:
        for label, value in (("kind", kind), ("name", name)):
            if not NAME_PATTERN.match(value):
                raise RegistrationError(
                    f"plugin {plugin!r} registered an automation {label} {value!r}: "
                    "use lowercase letters, digits and underscores"
                )
        if not TARGET_PATTERN.match(target):
            raise RegistrationError(
                f"plugin {plugin!r} registered {kind} automation {name!r} with target {target!r}: "
                "expected 'package.module:Class'"
            )
        existing = self.entries.get((kind, name))
        if existing is not None:
            raise RegistrationError(
                f"{kind} automation {name!r} is registered by both plugin {existing.plugin!r} "
                f"and plugin {plugin!r}; uninstall or disable one of them"
            )
        self.entries[(kind, name)] = AutomationSpec(name, target, plugin, summary, kind)

    def of_kind(self, kind: str) -> dict[str, AutomationSpec]:
        return {name: spec for (k, name), spec in sorted(self.entries.items()) if k == kind}

    def get(self, kind: str, name: str) -> AutomationSpec:
        try:
            return self.entries[(kind, name)]
        except KeyError:
            known = list(self.of_kind(kind))
            import difflib  # only on a miss

            close = difflib.get_close_matches(name, known, n=3)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise JobNotFoundError(
                f"no {kind} automation named {name!r}.{hint} Available: {', '.join(known) or 'none'}."
            ) from None


class CalibrationProtocolRegistry(AutomationRegistry):
    """Calibration protocols by device and protocol name (``registry.add(device, name, target)``)."""

    def get(self, kind: str, name: str) -> AutomationSpec:
        try:
            return self.entries[(kind, name)]
        except KeyError:
            known = list(self.of_kind(kind))
            raise JobNotFoundError(
                f"no calibration protocol {name!r} for {kind}. Available: {', '.join(known) or 'none'}."
            ) from None


class ScopedAutomationRegistry:
    def __init__(self, registry: AutomationRegistry, plugin: str) -> None:
        self._registry = registry
        self.plugin = plugin

    def add(self, kind: str, name: str, target: str, *, summary: str = "") -> None:
        """Register automation ``name`` of ``kind`` with a lazy ``"module:Class"`` target."""
        self._registry._add(self.plugin, kind, name, target, summary)


class ConfigDefaults:
    """Collects the config defaults that plugins declare, attributed to each plugin."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def scoped(self, plugin: str) -> ScopedConfigDefaults:
        return ScopedConfigDefaults(self, plugin)


class ScopedConfigDefaults:
    def __init__(self, defaults: ConfigDefaults, plugin: str) -> None:
        self._defaults = defaults
        self.plugin = plugin

    def section(
        self, section: str, values: Mapping[str, Any], *, limits: Mapping[str, Limits] | None = None
    ) -> None:
        """Declare keys of ``section`` with their defaults (their types are enforced on read).

        ``limits`` maps some of the keys to a :class:`~pioreactor.kernel.config.Limits` (a
        range, or the words accepted); a value outside is refused naming the file, section and key."""
        config = self._defaults.config
        limits = dict(limits or {})
        unknown = set(limits) - set(values)
        if unknown:
            raise RegistrationError(f"limits given for undeclared keys of [{section}]: {sorted(unknown)}")
        for key, value in values.items():
            existing = config.declared.get((section, key))
            if existing is not None and existing.plugin not in ("kernel", self.plugin):
                raise RegistrationError(
                    f"config key [{section}] {key} is declared by both plugin {existing.plugin!r} "
                    f"and plugin {self.plugin!r}"
                )
            config.declare(section, key, value, plugin=self.plugin, limits=limits.get(key))


# -- the leader's database: tables, MQTT sinks, export datasets ------------------------------

"""The one registry mechanism that every registration hook fills.

A :class:`Registry` owns what all registries share: keying (one name, or a composite key such
as ``(kind, name)``), the checks of names and ``"module:attribute"`` targets, the collision
message naming both plugins, reserved names, the view scoped to one plugin, and rollback of a
plugin whose hook raised. A concrete registry only adds its ``add`` method(s), which check
their own fields and call :meth:`Registry.put`.

Which registry class a registration hook fills is declared beside the hook's spec, in
:data:`pioreactor.kernel.hookspecs.REGISTRATION_HOOKS`.
"""

from __future__ import annotations

import copy
import importlib
import re
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pioreactor.kernel.errors import JobNotFoundError, RegistrationError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
TARGET_PATTERN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
TABLE_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def load_target(target: str) -> Any:
    """Import ``"module:attribute"`` (the attribute may be dotted) and return the attribute."""
    module_name, _, attribute = target.partition(":")
    value: Any = importlib.import_module(module_name)
    for part in filter(None, attribute.split(".")):
        value = getattr(value, part)
    return value


@dataclass(frozen=True)
class Spec:
    """Something a plugin registered: a name, a lazy target, one line of help, and for
    registries keyed by kind (automations, calibration protocols) its kind."""

    name: str
    target: str
    plugin: str
    summary: str = ""
    kind: str = ""

    def load(self) -> Any:
        """Import the target (``module:attribute``) and return the attribute."""
        return load_target(self.target)


# what each registry of targets holds; the names say what the entry is for
JobSpec = Spec
CommandSpec = Spec
BackendSpec = Spec
AutomationSpec = Spec


class Attributed(Protocol):
    @property
    def plugin(self) -> str: ...


E = TypeVar("E", bound=Attributed)
R = TypeVar("R", bound="Registry[Any]")


class Registry(Generic[E]):
    """Entries attributed to the plugin that registered them, keyed by ``key_of(entry)``.

    The hook receives ``registry.scoped(plugin)``: a view of the same entries whose ``add``
    methods attribute what they add to that plugin.
    """

    #: what an entry is, in messages ("job", "MQTT sink", ...)
    kind: ClassVar[str] = "entry"
    #: entries other registries derive for this one: (registry ``"module:Class"`` relative to this
    #: package, attribute of their entries); added as their plugin's own registrations
    contributions: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self) -> None:
        self.entries: dict[Any, E] = {}
        self.reserved: dict[Any, str] = {}  # key -> the plugin (or "kernel") that reserved it
        self._plugin: str | None = None

    # -- keying and messages: override for composite keys ---------------------------------
    def key_of(self, entry: E) -> Hashable:
        return getattr(entry, "name")  # noqa: B009 - entries are dataclasses with a name

    def describe(self, key: Any) -> str:
        """``job 'stirring'``: how messages name the entry under ``key``."""
        return f"{self.kind} {'/'.join(key) if isinstance(key, tuple) else key!r}"

    # -- scoping ----------------------------------------------------------------------------
    def scoped(self: R, plugin: str) -> R:
        """The view a plugin's hook receives: same entries, additions attributed to ``plugin``."""
        view = copy.copy(self)  # shares entries and reservations
        view._plugin = plugin
        return view

    @property
    def plugin(self) -> str:
        if self._plugin is None:
            raise RegistrationError(f"add to a {self.kind} registry through registry.scoped(plugin)")
        return self._plugin

    # -- checks -----------------------------------------------------------------------------
    def check_name(self, value: Any, what: str = "name", pattern: re.Pattern[str] = NAME_PATTERN) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            rule = (
                "lowercase letters, digits and underscores, starting with a letter"
                if pattern is NAME_PATTERN
                else "letters, digits and underscores"
            )
            raise RegistrationError(f"plugin {self.plugin!r} registered the {self.kind} {what} {value!r}: use {rule}")
        return value

    def check_target(self, name: str, target: Any, expected: str = "package.module:Attribute") -> str:
        if not isinstance(target, str) or not TARGET_PATTERN.match(target):
            raise RegistrationError(
                f"plugin {self.plugin!r} registered {self.kind} {name!r} with target {target!r}: "
                f"expected {expected!r}"
            )
        return target

    # -- adding, reserving, rolling back ----------------------------------------------------
    def put(self, entry: E) -> E:
        """Add ``entry``; a key another plugin holds (or reserved) is a collision naming both."""
        key = self.key_of(entry)
        holder = self.reserved.get(key)
        if holder is not None and holder != entry.plugin:
            raise RegistrationError(
                f"plugin {entry.plugin!r} registered {self.describe(key)}, a name reserved by "
                f"{'pio itself' if holder == 'kernel' else 'plugin ' + repr(holder)}; choose another name"
            )
        existing = self.entries.get(key)
        if existing is not None:
            raise self.collision(key, existing.plugin, entry.plugin)
        self.entries[key] = entry
        return entry

    def collision(self, key: Any, first: str, second: str) -> RegistrationError:
        if first == second:
            return RegistrationError(f"plugin {first!r} registers {self.describe(key)} twice; keep one")
        return RegistrationError(
            f"{self.describe(key)} is registered by both plugin {first!r} "
            f"and plugin {second!r}; uninstall or disable one of them"
        )

    def reserve(self, *keys: Any) -> None:
        """Keep ``keys`` from other plugins (e.g. names that already mean something on MQTT)."""
        for key in keys:
            self.reserved[key] = self.plugin

    def rollback(self, plugin: str) -> None:
        """Forget everything ``plugin`` added or reserved (its hook raised)."""
        for key in [key for key, entry in self.entries.items() if entry.plugin == plugin]:
            del self.entries[key]
        for key in [key for key, holder in self.reserved.items() if holder == plugin]:
            del self.reserved[key]

    # -- checking what an entry names (pio plugins check) ----------------------------------
    def target_of(self, entry: E) -> str | None:
        """The ``"module:attribute"`` the entry names, if any."""
        return getattr(entry, "target", None)

    def check_entry(self, entry: E) -> None:
        """Import what ``entry`` names and check it is usable; raise if not."""
        load = getattr(entry, "load", None)
        if load is not None and not callable(load()):
            raise TypeError(f"{self.target_of(entry)} is not callable")

    # -- reading ----------------------------------------------------------------------------
    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def __iter__(self) -> Iterator[Any]:
        return iter(sorted(self.entries))

    def names(self) -> list[Any]:
        return sorted(self.entries)

    def get(self, key: Any) -> E:
        try:
            return self.entries[key]
        except KeyError:
            raise JobNotFoundError(self.not_found(key)) from None

    def not_found(self, key: Any) -> str:
        import difflib  # only on a miss

        close = difflib.get_close_matches(str(key), [str(k) for k in self.entries], n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        return f"no {self.kind} named {key!r} is registered.{hint} `pio plugins list` shows the installed plugins."


class TargetRegistry(Registry[Spec]):
    """Names with a lazy ``"module:attribute"`` target and a one-line summary."""

    def add(self, name: str, target: str, *, summary: str = "") -> None:
        """Register ``name`` with a lazy ``"module:attribute"`` target and a one-line summary."""
        self.check_name(name)
        self.put(Spec(name, self.check_target(name, target), self.plugin, summary))


class KindRegistry(Registry[Spec]):
    """Targets keyed by ``(kind, name)``: automations of a kind, calibration protocols of a device."""

    def key_of(self, entry: Spec) -> Hashable:
        return (entry.kind, entry.name)

    def describe(self, key: Any) -> str:
        return f"{key[0]} {self.kind} {key[1]!r}"

    def add(self, kind: str, name: str, target: str, *, summary: str = "") -> None:
        """Register ``name`` of ``kind`` with a lazy ``"module:Class"`` target."""
        self.check_name(kind, "kind")
        self.check_name(name)
        self.put(Spec(name, self.check_target(name, target, "package.module:Class"), self.plugin, summary, kind))

    def of_kind(self, kind: str) -> dict[str, Spec]:
        return {name: spec for (k, name), spec in sorted(self.entries.items()) if k == kind}

    def get(self, kind: str, name: str) -> Spec:  # type: ignore[override]
        try:
            return self.entries[(kind, name)]
        except KeyError:
            raise JobNotFoundError(self.not_found((kind, name))) from None

    def not_found(self, key: Any) -> str:
        kind, name = key
        known = list(self.of_kind(kind))
        import difflib  # only on a miss

        close = difflib.get_close_matches(name, known, n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        return f"no {kind} {self.kind} named {name!r}.{hint} Available: {', '.join(known) or 'none'}."

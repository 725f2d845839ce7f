"""Layered configuration.

Lowest to highest precedence:

1. defaults that the kernel and plugins declare (``pioreactor_register_config_defaults``),
2. ``$PIO_HOME/config.ini`` (shared by the cluster),
3. ``$PIO_HOME/unit_config.ini`` (this unit only),
4. ``--config-override SECTION KEY VALUE`` given to ``pio run``.

Every value remembers the layer it came from, so a wrong type or a missing key is reported with
the file, the section and the key, which is what a user needs to fix it.
"""

from __future__ import annotations

import configparser
import io
import math
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pioreactor.kernel import paths
from pioreactor.kernel.errors import ConfigError

TRUE_WORDS = frozenset({"1", "true", "yes", "on", "y"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", "n"})


class _Required:
    """Marks a default-less key that must be set in a config file."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Limits:
    """What a declared key accepts beyond its type: a range for numbers, a list of words for text.

    ``minimum``/``maximum`` include the bound, ``above``/``below`` exclude it; ``choices`` are
    compared without case. Every float must also be finite, limits or not."""

    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    below: float | None = None
    choices: tuple[str, ...] | None = None

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is refused (a phrase such as "must be above 0"), or None."""
        if self.choices is not None:
            if str(value).strip().lower() not in {c.lower() for c in self.choices}:
                return f"must be one of {', '.join(self.choices)}"
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        wanted = []
        if self.minimum is not None:
            wanted.append(f"at least {self.minimum:g}")
        if self.above is not None:
            wanted.append(f"above {self.above:g}")
        if self.maximum is not None:
            wanted.append(f"at most {self.maximum:g}")
        if self.below is not None:
            wanted.append(f"below {self.below:g}")
        if (
            (self.minimum is not None and value < self.minimum)
            or (self.above is not None and value <= self.above)
            or (self.maximum is not None and value > self.maximum)
            or (self.below is not None and value >= self.below)
        ):
            return "must be " + " and ".join(wanted)
        return None


@dataclass
class DeclaredKey:
    default: Any
    plugin: str
    description: str = ""
    limits: Limits | None = None

    @property
    def kind(self) -> type | None:
        if self.default is REQUIRED or self.default is None:
            return None
        return type(self.default)


@dataclass
class Layer:
    """One source of values: a file, the declared defaults, or the command line."""

    name: str
    parser: configparser.ConfigParser = field(default_factory=lambda: new_parser())


def new_parser() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False, allow_no_value=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    return parser


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_boolean(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(text)


class Config:
    """Read-only view over the layers; typed getters name the origin of a bad value."""

    def __init__(self, base: Config | None = None) -> None:
        """An empty config, or one over ``base``'s declared defaults (see `derive`)."""
        self.declared: dict[tuple[str, str], DeclaredKey] = base.declared if base else {}
        self.defaults: Layer = base.defaults if base else Layer("defaults")
        # True while ``declared`` and ``defaults`` are base's: the first declare copies them
        self._shares_defaults = base is not None
        # which sections each plugin declared keys in, and each section's keys (see `_index`)
        self._index_cache: tuple[dict[str, set[str]], dict[str, list[str]]] | None = (
            base._index_cache if base else None
        )
        self.layers: list[Layer] = [self.defaults]
        #: problems worth a warning but not a refusal (duplicate sections and keys)
        self.warnings: list[str] = []

    def derive(self) -> Config:
        """A config over this one's declared defaults, sharing them until it declares more.

        Declaring every plugin's defaults runs code in every plugin; building them once (the
        fork server does it before forking) leaves each command only its files to read."""
        self._index()  # built here once, not in each derived config
        return Config(self)

    # -- building --------------------------------------------------------------------------
    def declare(
        self,
        section: str,
        key: str,
        default: Any,
        *,
        plugin: str,
        description: str = "",
        limits: Limits | None = None,
    ) -> None:
        if self._shares_defaults:
            self._own_defaults()
        self._index_cache = None
        self.declared[(section, key)] = DeclaredKey(default, plugin, description, limits)
        if default is REQUIRED or default is None:
            return
        if not self.defaults.parser.has_section(section):
            self.defaults.parser.add_section(section)
        self.defaults.parser.set(section, key, format_value(default))

    def editable_declarations(self) -> dict[tuple[str, str], DeclaredKey]:
        """``declared``, this config's own (no longer shared with the one it derives from), for
        a caller that changes it directly (the registry of plugins' defaults)."""
        if self._shares_defaults:
            self._own_defaults()
        self._index_cache = None
        return self.declared

    def _own_defaults(self) -> None:
        parser = new_parser()
        parser.read_dict(self.defaults.parser)
        self.defaults = self.layers[0] = Layer("defaults", parser)
        self.declared = dict(self.declared)
        self._shares_defaults = False

    def add_file(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return
        layer, warnings = _parse_file(path, data)
        self.layers.append(layer)
        for warning in warnings:
            self.warnings.append(warning)
            print(f"Warning: {warning}", file=sys.stderr)

    def add_overrides(self, overrides: Iterable[tuple[str, str, str]]) -> None:
        overrides = list(overrides)
        if not overrides:
            return
        layer = Layer("--config-override")
        for section, key, value in overrides:
            if not layer.parser.has_section(section):
                layer.parser.add_section(section)
            layer.parser.set(section, key, value)
        self.layers.append(layer)

    # -- reading ---------------------------------------------------------------------------
    def _lookup(self, section: str, key: str) -> tuple[str | None, Layer] | None:
        for layer in reversed(self.layers):
            parser = layer.parser
            if parser.has_section(section) and parser.has_option(section, key):
                return parser.get(section, key), layer
        return None

    def origin(self, section: str, key: str) -> str | None:
        found = self._lookup(section, key)
        return found[1].name if found else None

    def has_section(self, section: str) -> bool:
        return any(layer.parser.has_section(section) for layer in self.layers)

    def has_option(self, section: str, key: str) -> bool:
        return self._lookup(section, key) is not None

    def sections(self) -> list[str]:
        seen: dict[str, None] = {}
        for layer in self.layers:
            for section in layer.parser.sections():
                seen.setdefault(section, None)
        return list(seen)

    def section(self, section: str) -> dict[str, str]:
        """All keys of a section, merged over the layers (higher layers win)."""
        merged: dict[str, str] = {}
        for layer in self.layers:
            if layer.parser.has_section(section):
                for key, value in layer.parser.items(section):
                    merged[key] = value if value is not None else ""
        return merged

    def _missing(self, section: str, key: str) -> ConfigError:
        files = [layer.name for layer in self.layers[1:] if layer.name != "--config-override"]
        where = ", ".join(files) if files else f"{paths.global_config_path()} (which does not exist)"
        return ConfigError(
            f"config: [{section}] {key} is required but not set. Looked in: {where}. "
            f"Add it under [{section}] in {paths.global_config_path()}."
        )

    def get(self, section: str, key: str, fallback: Any = REQUIRED) -> Any:
        found = self._lookup(section, key)
        if found is None or found[0] is None:
            if fallback is not REQUIRED:
                return fallback
            raise self._missing(section, key)
        self._check_limits(section, key, found[0], found[0], found[1])
        return found[0]

    def _check_limits(self, section: str, key: str, value: Any, text: str, layer: Layer) -> None:
        declared = self.declared.get((section, key))
        problem = declared.limits.problem(value) if declared is not None and declared.limits else None
        if problem is None and isinstance(value, float) and not math.isfinite(value):
            problem = "must be a finite number"
        if problem is not None:
            raise ConfigError(f"{layer.name}: [{section}] {key} = {text!r} {problem}. Fix {_fix(layer)}.")

    def _typed(self, section: str, key: str, fallback: Any, convert: Any, kind: str) -> Any:
        found = self._lookup(section, key)
        if found is None or found[0] is None or (found[0].strip() == "" and kind != "text"):
            if fallback is not REQUIRED:
                return fallback
            raise self._missing(section, key)
        text, layer = found
        try:
            value = convert(text)
        except ValueError:
            raise ConfigError(f"{layer.name}: [{section}] {key} = {text!r} is not {kind}. Fix {_fix(layer)}.") from None
        self._check_limits(section, key, value, text or "", layer)
        return value

    def getfloat(self, section: str, key: str, fallback: Any = REQUIRED) -> float:
        return self._typed(section, key, fallback, float, "a number")

    def getint(self, section: str, key: str, fallback: Any = REQUIRED) -> int:
        return self._typed(section, key, fallback, int, "a whole number")

    def getboolean(self, section: str, key: str, fallback: Any = REQUIRED) -> bool:
        return self._typed(section, key, fallback, parse_boolean, "true or false")

    def typed(self, section: str, key: str, fallback: Any = REQUIRED) -> Any:
        """The value converted to the type of its declared default."""
        declared = self.declared.get((section, key))
        kind = declared.kind if declared else None
        if kind is bool:
            return self.getboolean(section, key, fallback)
        if kind is int:
            return self.getint(section, key, fallback)
        if kind is float:
            return self.getfloat(section, key, fallback)
        return self.get(section, key, fallback)

    def _index(self) -> tuple[dict[str, set[str]], dict[str, list[str]]]:
        """(plugin -> sections it declared keys in, section -> its declared keys), built once for
        the declared defaults and shared with the configs derived from them: a job reads its own
        sections without going over every key every plugin declared."""
        if self._index_cache is None:
            by_plugin: dict[str, set[str]] = {}
            by_section: dict[str, list[str]] = {}
            for (section, key), declared in self.declared.items():
                by_plugin.setdefault(declared.plugin, set()).add(section)
                by_section.setdefault(section, []).append(key)
            self._index_cache = by_plugin, by_section
        return self._index_cache

    def sections_declared_by(self, plugins: Iterable[str]) -> set[str]:
        """The sections in which ``plugins`` declared keys."""
        by_plugin = self._index()[0]
        return {section for plugin in plugins for section in by_plugin.get(plugin, ())}

    def validate(self, sections: Iterable[str] | None = None) -> list[ConfigError]:
        """Check declared keys (of the given sections) for presence and type; return every problem."""
        by_section = self._index()[1]
        wanted = by_section if sections is None else set(sections)
        problems: list[ConfigError] = []
        pairs = sorted((name, key) for name in wanted for key in by_section.get(name, ()))
        for section, key in pairs:
            try:
                self.typed(section, key)
            except ConfigError as err:
                problems.append(err)
        return problems


#: sections an experiment profile may not override: where files go, who the broker is, which
#: pin drives what. A profile is a file anyone may share; these stay with the unit's owner.
PROTECTED_SECTIONS = frozenset(
    {"mqtt", "cluster", "storage", "logging", "hardware", "PWM", "rpi.pins", "pumps", "leds", "mqtt_to_db_streaming"}
)
#: keys that name files or folders, protected in any section
PATH_KEY = re.compile(r"(^|_)(file|path|dir|folder|database|directory)(_|$)", re.I)


def protected_config_reason(section: str, key: str) -> str | None:
    """Why an experiment profile may not override ``[section] key``, or None if it may."""
    if section in PROTECTED_SECTIONS:
        return f"[{section}] is the unit's own configuration (paths, broker, wiring), which profiles cannot change"
    if PATH_KEY.search(key):
        return f"[{section}] {key} names a file or folder, which profiles cannot change"
    return None


def _fix(layer: Layer) -> str:
    if layer.name == "--config-override":
        return "the value given to --config-override"
    if layer.name == "defaults":
        return "the plugin's declared default"
    return "the value in that file"


SECTION_LINE = re.compile(r"^\[(?P<name>[^\]]+)\]")
KEY_LINE = re.compile(r"^(?P<key>[^=:\s;#\[][^=:]*?)\s*[=:]")


def find_duplicates(path: Path, text: str | None = None) -> list[str]:
    """Sections and keys given twice in one file (``text``, read from ``path`` if not given):
    the last one wins, which is rarely meant."""
    found: list[str] = []
    sections: dict[str, int] = {}
    keys: dict[tuple[str, str], int] = {}
    section = ""
    try:
        lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    except (OSError, UnicodeDecodeError):
        return found
    for number, line in enumerate(lines, start=1):
        if not line or line[0] in " \t;#":  # blank, a continuation or a comment
            continue
        header = SECTION_LINE.match(line)
        if header:
            section = header["name"].strip()
            if section in sections:
                found.append(
                    f"{path}, line {number}: section [{section}] appears again (first at line "
                    f"{sections[section]}); their keys are merged, the later value winning."
                )
            else:
                sections[section] = number
            continue
        match = KEY_LINE.match(line)
        if match and section:
            key = match["key"].strip()
            if (section, key) in keys:
                found.append(
                    f"{path}, line {number}: [{section}] {key} is set again (first at line "
                    f"{keys[(section, key)]}); the value at line {number} is used."
                )
            else:
                keys[(section, key)] = number
    return found


# path -> (its bytes, the layer parsed from them, its warnings): a process reads the unit's
# files for each config it loads (`pio run` twice), and the fork server's parse is its jobs'
_parsed_files: dict[str, tuple[bytes, Layer, list[str]]] = {}


def _parse_file(path: Path, data: bytes) -> tuple[Layer, list[str]]:
    """The layer of ``path`` holding ``data`` and the file's warnings, parsed once for the same
    bytes (a layer is never changed once parsed)."""
    cached = _parsed_files.get(str(path))
    if cached is not None and cached[0] == data:
        return cached[1], cached[2]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: is not UTF-8 text ({err.reason}).") from None
    layer = Layer(str(path))
    try:
        layer.parser.read_file(io.StringIO(text, newline=None), source=str(path))  # any line ending
    except configparser.MissingSectionHeaderError as err:
        raise ConfigError(
            f"{path}, line {err.lineno}: a value appears before any [section] header "
            f"({err.line.strip()!r}). Put it under a section such as [mqtt]."
        ) from None
    except configparser.Error as err:
        raise ConfigError(f"{path}: cannot be parsed: {err}".replace("\n", " ")) from None
    warnings = find_duplicates(path, text)
    _parsed_files[str(path)] = (data, layer, warnings)
    return layer, warnings


def load_config(
    overrides: Iterable[tuple[str, str, str]] = (),
    defaults: Mapping[tuple[str, str], Any] | None = None,
    *,
    declared: Config | None = None,
) -> Config:
    """Read the declared defaults (the kernel's, or those of ``declared``), the unit's files and
    the overrides into a fresh `Config`."""
    config = (declared or kernel_defaults()).derive()
    for (section, key), value in (defaults or {}).items():
        config.declare(section, key, value, plugin="caller")
    config.add_file(paths.global_config_path())
    config.add_file(paths.unit_config_path())
    config.add_overrides(overrides)
    return config


_kernel_defaults: Config | None = None


def kernel_defaults() -> Config:
    """A config holding only the kernel's declared defaults, built once per process (never
    handed out: `load_config` derives from it)."""
    global _kernel_defaults
    if _kernel_defaults is None:
        from pioreactor.kernel.config_defaults import declare_kernel_defaults

        config = Config()
        declare_kernel_defaults(config)
        _kernel_defaults = config
    return _kernel_defaults


_current: Config | None = None


def get_config() -> Config:
    """The configuration of this process (loaded once; `pio run` adds plugin defaults and overrides)."""
    global _current
    if _current is None:
        _current = load_config()
    return _current


def set_config(config: Config | None) -> None:
    global _current
    _current = config

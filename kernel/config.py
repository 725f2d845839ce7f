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


@dataclass
class DeclaredKey:
    default: Any
    plugin: str
    description: str = ""

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

    def __init__(self) -> None:
        self.declared: dict[tuple[str, str], DeclaredKey] = {}
        self.defaults = Layer("defaults")
        self.layers: list[Layer] = [self.defaults]

    # -- building --------------------------------------------------------------------------
    def declare(self, section: str, key: str, default: Any, *, plugin: str, description: str = "") -> None:
        self.declared[(section, key)] = DeclaredKey(default, plugin, description)
        if default is REQUIRED or default is None:
            return
        if not self.defaults.parser.has_section(section):
            self.defaults.parser.add_section(section)
        self.defaults.parser.set(section, key, format_value(default))

    def add_file(self, path: Path) -> None:
        if not path.exists():
            return
        layer = Layer(str(path))
        try:
            with open(path, encoding="utf-8") as handle:
                layer.parser.read_file(handle, source=str(path))
        except configparser.MissingSectionHeaderError as err:
            raise ConfigError(
                f"{path}, line {err.lineno}: a value appears before any [section] header "
                f"({err.line.strip()!r}). Put it under a section such as [mqtt]."
            ) from None
        except configparser.Error as err:
            raise ConfigError(f"{path}: cannot be parsed: {err}".replace("\n", " ")) from None
        except UnicodeDecodeError as err:
            raise ConfigError(f"{path}: is not UTF-8 text ({err.reason}).") from None
        self.layers.append(layer)

    def add_overrides(self, overrides: Iterable[tuple[str, str, str]]) -> None:
        layer = Layer("--config-override")
        for section, key, value in overrides:
            if not layer.parser.has_section(section):
                layer.parser.add_section(section)
            layer.parser.set(section, key, value)
        if layer.parser.sections():
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
        return found[0]

    def _typed(self, section: str, key: str, fallback: Any, convert: Any, kind: str) -> Any:
        found = self._lookup(section, key)
        if found is None or found[0] is None or (found[0].strip() == "" and kind != "text"):
            if fallback is not REQUIRED:
                return fallback
            raise self._missing(section, key)
        text, layer = found
        try:
            return convert(text)
        except ValueError:
            fix = "the value given to --config-override" if layer.name == "--config-override" else "the value in that file"
            raise ConfigError(f"{layer.name}: [{section}] {key} = {text!r} is not {kind}. Fix {fix}.") from None

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

    def validate(self, sections: Iterable[str] | None = None) -> list[ConfigError]:
        """Check declared keys (of the given sections) for presence and type; return every problem."""
        wanted = set(sections) if sections is not None else None
        problems: list[ConfigError] = []
        for (section, key), _declared in sorted(self.declared.items()):
            if wanted is not None and section not in wanted:
                continue
            try:
                self.typed(section, key)
            except ConfigError as err:
                problems.append(err)
        return problems


def load_config(
    overrides: Iterable[tuple[str, str, str]] = (), defaults: Mapping[tuple[str, str], Any] | None = None
) -> Config:
    """Read the kernel defaults, the unit's files and the overrides into a fresh `Config`."""
    from pioreactor.kernel.config_defaults import declare_kernel_defaults

    config = Config()
    declare_kernel_defaults(config)
    for (section, key), value in (defaults or {}).items():
        config.declare(section, key, value, plugin="caller")
    config.add_file(paths.global_config_path())
    config.add_file(paths.unit_config_path())
    config.add_overrides(overrides)
    return config


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

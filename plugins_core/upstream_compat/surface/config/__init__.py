"""``pioreactor.config``: upstream's ``config`` object, read from our layered config.

``config.get(section, key, fallback=...)``, ``getfloat``/``getint``/``getboolean``,
``config[section][key]``, ``has_section``/``has_option``, and the in-memory ``[PWM_reverse]``
section (device -> PWM channel, the reverse of ``[PWM]``) that upstream builds on load.
Missing values raise configparser's ``NoSectionError``/``NoOptionError``, as upstream's do.
"""

from __future__ import annotations

import configparser
from collections.abc import Iterator, Mapping
from typing import Any

from pioreactor import sdk

_UNSET: Any = object()
TRUE_WORDS = {"1", "yes", "true", "on", "y"}
FALSE_WORDS = {"0", "no", "false", "off", "n"}


def _current() -> Any:
    return sdk.get_config()


class Section(Mapping[str, str]):
    """One section, read-only, as ``config["PWM"]`` returns it upstream."""

    def __init__(self, parser: ConfigProxy, name: str) -> None:
        self._parser = parser
        self.name = name

    def _values(self) -> dict[str, str]:
        return self._parser._section_values(self.name)

    def __getitem__(self, key: str) -> str:
        values = self._values()
        if key not in values:
            raise KeyError(key)
        return values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())

    def get(self, key: str, fallback: Any = None, **_: Any) -> Any:
        return self._values().get(key, fallback)

    def getfloat(self, key: str, fallback: Any = _UNSET) -> Any:
        return self._parser.getfloat(self.name, key, fallback=fallback)

    def getint(self, key: str, fallback: Any = _UNSET) -> Any:
        return self._parser.getint(self.name, key, fallback=fallback)

    def getboolean(self, key: str, fallback: Any = _UNSET) -> Any:
        return self._parser.getboolean(self.name, key, fallback=fallback)


class ConfigProxy:
    """Reads the process's current config on every call, so overrides and reloads show."""

    def _section_values(self, section: str) -> dict[str, str]:
        config = _current()
        if section == "PWM_reverse":
            pwm = config.section("PWM") if config.has_section("PWM") else {}
            return {device: channel for channel, device in pwm.items() if device}
        if not config.has_section(section):
            raise configparser.NoSectionError(section)
        return dict(config.section(section))

    def sections(self) -> list[str]:
        return [*_current().sections(), "PWM_reverse"]

    def has_section(self, section: str) -> bool:
        return section == "PWM_reverse" or bool(_current().has_section(section))

    def has_option(self, section: str, option: str) -> bool:
        try:
            return option in self._section_values(section)
        except configparser.NoSectionError:
            return False

    def __contains__(self, section: object) -> bool:
        return isinstance(section, str) and self.has_section(section)

    def __getitem__(self, section: str) -> Section:
        if not self.has_section(section):
            raise KeyError(section)
        return Section(self, section)

    def get(self, section: str, option: str, fallback: Any = _UNSET, **_: Any) -> Any:
        try:
            values = self._section_values(section)
        except configparser.NoSectionError:
            if fallback is not _UNSET:
                return fallback
            raise
        if option not in values:
            if fallback is not _UNSET:
                return fallback
            raise configparser.NoOptionError(option, section)
        return values[option]

    def _typed(self, section: str, option: str, fallback: Any, convert: Any) -> Any:
        try:
            value = self.get(section, option)
        except (configparser.NoSectionError, configparser.NoOptionError):
            if fallback is not _UNSET:
                return fallback
            raise
        if value.strip() == "" and fallback is not _UNSET:
            return fallback
        try:
            return convert(value)
        except ValueError:
            raise ValueError(f"[{section}] {option} = {value!r} in config.ini is not valid: fix it there") from None

    def getfloat(self, section: str, option: str, fallback: Any = _UNSET, **_: Any) -> Any:
        return self._typed(section, option, fallback, float)

    def getint(self, section: str, option: str, fallback: Any = _UNSET, **_: Any) -> Any:
        return self._typed(section, option, fallback, int)

    def getboolean(self, section: str, option: str, fallback: Any = _UNSET, **_: Any) -> Any:
        return self._typed(section, option, fallback, _boolean)


def _boolean(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(text)


config = ConfigProxy()


def get_config() -> ConfigProxy:
    return config


def get_leader_hostname() -> str:
    from pioreactor.sdk.unit import get_leader_hostname as leader

    return leader()


def get_mqtt_address() -> str:
    return str(_current().get("mqtt", "broker_address", fallback="localhost"))


def __getattr__(name: str) -> Any:
    # upstream computes these at import time; we read them when asked
    if name in ("leader_hostname", "leader_address"):
        return get_leader_hostname()
    if name == "mqtt_address":
        return get_mqtt_address()
    raise AttributeError(f"module 'pioreactor.config' has no attribute {name!r}")

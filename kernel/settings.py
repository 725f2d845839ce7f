"""Published settings: their declaration, how values go on the wire and how ``/set`` payloads decode."""

from __future__ import annotations

import json
import math
from typing import Any, NotRequired, TypedDict

# values a /set message can carry; a setting may also publish a msgspec Struct (read-only)
DATATYPES = frozenset({"string", "float", "integer", "boolean", "json"})
SETTABLE_DATATYPES = DATATYPES
ALLOWED_KEYS = frozenset({"datatype", "settable", "unit", "persist"})
TRUE_WORDS = frozenset({"true", "1", "y", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "n", "no", "off"})


class PublishedSetting(TypedDict):
    datatype: str | type  # one of DATATYPES, or a msgspec Struct class
    settable: bool
    unit: NotRequired[str]
    persist: NotRequired[bool]


class SettingDecodeError(ValueError):
    """A ``/set`` payload that does not fit the setting's datatype."""


def check_published_settings(job_name: str, settings: dict[str, Any]) -> None:
    """Raise ValueError naming the job and setting for any malformed declaration."""
    for name, spec in settings.items():
        where = f"{job_name}.published_settings[{name!r}]"
        if not name or not all(part.isalnum() for part in name.split("_")) or name != name.lower():
            raise ValueError(f"{where}: setting names are lowercase letters and digits joined by '_'")
        if not isinstance(spec, dict):
            raise ValueError(f"{where}: expected a dict like {{'datatype': 'float', 'settable': True}}")
        extra = set(spec) - ALLOWED_KEYS
        if extra:
            raise ValueError(f"{where}: unknown keys {sorted(extra)}; allowed: {sorted(ALLOWED_KEYS)}")
        if "datatype" not in spec or "settable" not in spec:
            raise ValueError(f"{where}: 'datatype' and 'settable' are required")
        datatype = spec["datatype"]
        if not is_struct_class(datatype) and datatype not in DATATYPES:
            raise ValueError(
                f"{where}: datatype {datatype!r} is neither one of {sorted(DATATYPES)} nor a msgspec Struct class"
            )
        if spec["settable"] and datatype not in SETTABLE_DATATYPES:
            raise ValueError(f"{where}: datatype {datatype_name(datatype)} cannot be settable (structs are read-only)")


def is_struct_class(datatype: Any) -> bool:
    """A msgspec Struct class (any plugin's own), checked without importing msgspec."""
    return isinstance(datatype, type) and hasattr(datatype, "__struct_fields__")


def datatype_name(datatype: Any) -> str:
    """``float``, or a struct's class name: how messages and listings show a datatype."""
    return datatype.__name__ if is_struct_class(datatype) else str(datatype)


def encode_value(value: Any) -> str | bytes | None:
    """The MQTT payload for a setting's value (upstream-compatible: booleans as True/False)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float, str, bytes)):
        return value if isinstance(value, (str, bytes)) else str(value)
    if hasattr(value, "__struct_fields__"):  # a msgspec Struct
        import msgspec

        return msgspec.json.encode(value)
    return json.dumps(value)


def decode_value(datatype: str, payload: bytes) -> Any:
    """Decode a ``/set`` payload; SettingDecodeError says what was expected."""
    text = payload.decode("utf-8", errors="replace").strip()
    if datatype == "string":
        return payload.decode("utf-8", errors="replace")
    if datatype == "float":
        try:
            value = float(text)
        except ValueError:
            raise SettingDecodeError("expected a number") from None
        if not math.isfinite(value):
            raise SettingDecodeError("expected a finite number")
        return value
    if datatype == "integer":
        try:
            return int(text)
        except ValueError:
            raise SettingDecodeError("expected a whole number") from None
    if datatype == "boolean":
        word = text.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise SettingDecodeError("expected true or false")
    if datatype == "json":
        try:
            return json.loads(text)
        except ValueError:
            raise SettingDecodeError("expected JSON") from None
    raise SettingDecodeError(f"datatype {datatype} cannot be set over MQTT")


def format_with_unit(value: Any, unit: str | None) -> str:
    text = str(value)
    if len(text) > 40:
        text = text[:40] + ".."
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"

"""User-interface descriptors: job and automation forms and charts, checked before a UI sees them.
Filled by ``pioreactor_register_ui_descriptors``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pioreactor.kernel.errors import RegistrationError
from pioreactor.kernel.registries import NAME_PATTERN, TABLE_NAME_PATTERN, Registry
from pioreactor.kernel.registries.data import valid_topic_filter

UI_FIELD_TYPES = ("float", "integer", "string", "boolean", "json")
UI_FIELD_KEYS = frozenset({"key", "label", "type", "default", "unit", "description", "choices", "settable"})
UI_DESCRIPTOR_KEYS = {
    "job": frozenset({"job_name", "display_name", "description", "fields"}),
    "automation": frozenset({"automation_name", "kind", "display_name", "description", "fields"}),
    "chart": frozenset(
        {
            "chart_key",
            "title",
            "topic",
            "payload_key",
            "y_axis_label",
            "description",
            "table",
            "column",
            "interpolation",
            "series_key",
        }
    ),
}
#: how a chart joins its points: straight lines (measurements), steps that hold each value until
#: the next one (settings, e.g. an LED's intensity), or no line at all: each point a marker of
#: its own (discrete events, e.g. doses)
CHART_INTERPOLATIONS = ("linear", "stepAfter", "points")
#: columns every time series has: a series is split by another one
SERIES_COLUMNS = ("experiment", "pioreactor_unit", "timestamp")
UI_NAME_KEYS = {"job": ("job_name",), "automation": ("kind", "automation_name"), "chart": ("chart_key",)}


@dataclass(frozen=True)
class UiDescriptor:
    """A job form, an automation form or a chart, as a plain dict a UI can render."""

    category: str  # job, automation or chart
    name: str  # job_name, "kind/automation_name" or chart_key
    plugin: str
    data: Mapping[str, Any]


def _ui_text(where: str, data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise RegistrationError(f"{where}: {key!r} must be text, got {value!r}")
    return value


def _ui_fields(where: str, fields: Any) -> list[dict[str, Any]]:
    import json

    if fields is None:
        return []
    if not isinstance(fields, Sequence) or isinstance(fields, str):
        raise RegistrationError(f"{where}: 'fields' must be a list of dicts")
    checked = []
    for index, item in enumerate(fields):
        at = f"{where}, field {index}"
        if not isinstance(item, Mapping):
            raise RegistrationError(f"{at}: expected a dict with 'key' and 'type', got {item!r}")
        unknown = sorted(set(item) - UI_FIELD_KEYS)
        if unknown:
            raise RegistrationError(f"{at}: unknown keys {unknown}; known: {', '.join(sorted(UI_FIELD_KEYS))}")
        key = item.get("key")
        if not isinstance(key, str) or not NAME_PATTERN.match(key):
            raise RegistrationError(f"{at}: 'key' must be an option or setting name, got {key!r}")
        if item.get("type") not in UI_FIELD_TYPES:
            raise RegistrationError(f"{at} ({key}): 'type' must be one of {', '.join(UI_FIELD_TYPES)}")
        choices = item.get("choices")
        if choices is not None and (not isinstance(choices, Sequence) or isinstance(choices, str) or not choices):
            raise RegistrationError(f"{at} ({key}): 'choices' must be a non-empty list")
        field_data = dict(item)
        field_data["label"] = _ui_text(at, item, "label", key.replace("_", " ").capitalize())
        field_data["settable"] = bool(item.get("settable", False))
        try:
            json.dumps(field_data)
        except (TypeError, ValueError) as err:
            raise RegistrationError(f"{at} ({key}): not JSON-serialisable: {err}") from None
        checked.append(field_data)
    keys = [item["key"] for item in checked]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise RegistrationError(f"{where}: fields {duplicates} appear more than once")
    return checked


def make_ui_descriptor(category: str, plugin: str, descriptor: Mapping[str, Any]) -> UiDescriptor:
    """Check a descriptor's keys and types (and fill display names) before a UI ever sees it."""
    if not isinstance(descriptor, Mapping):
        raise RegistrationError(f"plugin {plugin!r} registered a {category} UI descriptor that is not a dict")
    names = [descriptor.get(key) for key in UI_NAME_KEYS[category]]
    where = f"{category} UI descriptor {'/'.join(map(str, names))!r} of plugin {plugin!r}"
    unknown = sorted(set(descriptor) - UI_DESCRIPTOR_KEYS[category])
    if unknown:
        raise RegistrationError(
            f"{where}: unknown keys {unknown}; known: {', '.join(sorted(UI_DESCRIPTOR_KEYS[category]))}"
        )
    for key, value in zip(UI_NAME_KEYS[category], names, strict=True):
        if not isinstance(value, str) or not NAME_PATTERN.match(value):
            raise RegistrationError(f"{where}: {key!r} is required (lowercase letters, digits, _), got {value!r}")
    key_names = [str(value) for value in names]
    data = dict(descriptor)
    if category == "chart":
        data["title"] = _ui_text(where, descriptor, "title", key_names[0].replace("_", " ").capitalize())
        topic = descriptor.get("topic")
        if not isinstance(topic, str) or not topic or topic.startswith(("pioreactor/", "/")) or not valid_topic_filter(topic):
            raise RegistrationError(
                f"{where}: 'topic' is the part after pioreactor/<unit>/<experiment>/, e.g. "
                f"'stirring/measured_rpm' (wildcards + and # allowed), got {topic!r}"
            )
        for key in ("payload_key", "y_axis_label", "description", "table", "column"):
            _ui_text(where, descriptor, key)
        if descriptor.get("interpolation", "linear") not in CHART_INTERPOLATIONS:
            raise RegistrationError(
                f"{where}: 'interpolation' must be one of {', '.join(CHART_INTERPOLATIONS)} (linear for "
                f"measurements, stepAfter for values that hold until they change, points for events), "
                f"got {descriptor.get('interpolation')!r}"
            )
        series_key = descriptor.get("series_key")
        if series_key is not None and (
            not isinstance(series_key, str) or not TABLE_NAME_PATTERN.match(series_key) or series_key in SERIES_COLUMNS
        ):
            raise RegistrationError(
                f"{where}: 'series_key' is the payload field and column that names a series within a unit "
                f"(e.g. 'channel'), got {series_key!r}"
            )
    else:
        data["display_name"] = _ui_text(where, descriptor, "display_name", key_names[-1].replace("_", " ").capitalize())
        data["description"] = _ui_text(where, descriptor, "description")
        data["fields"] = _ui_fields(where, descriptor.get("fields"))
    return UiDescriptor(category, "/".join(key_names), plugin, data)


class UiDescriptorRegistry(Registry[UiDescriptor]):
    """Job forms, automation forms and charts for user interfaces, keyed by (category, name)."""

    kind = "UI descriptor"
    contributions = (("timeseries:TimeseriesRegistry", "chart"),)

    def key_of(self, entry: UiDescriptor) -> tuple[str, str]:
        return (entry.category, entry.name)

    def describe(self, key: Any) -> str:
        return f"the {key[0]} UI descriptor {key[1]!r}"

    def add_job(self, descriptor: Mapping[str, Any]) -> None:
        """A job's form: ``job_name``, ``display_name``, ``description``, ``fields``."""
        self.put(make_ui_descriptor("job", self.plugin, descriptor))

    def add_automation(self, descriptor: Mapping[str, Any]) -> None:
        """An automation's form: ``automation_name``, ``kind``, ``display_name``, ``description``, ``fields``."""
        self.put(make_ui_descriptor("automation", self.plugin, descriptor))

    def add_chart(self, descriptor: Mapping[str, Any]) -> None:
        """A chart: ``chart_key``, ``title``, ``topic``, ``payload_key``, ``y_axis_label``, ``table``,
        ``column``, ``interpolation``, ``series_key``."""
        self.put(make_ui_descriptor("chart", self.plugin, descriptor))

    def of(self, category: str) -> list[UiDescriptor]:
        return [spec for (kind, _), spec in sorted(self.entries.items()) if kind == category]

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        """``{"jobs": [...], "automations": [...], "charts": [...]}``, each descriptor with its plugin."""
        return {
            f"{category}s": [dict(spec.data, plugin=spec.plugin) for spec in self.of(category)]
            for category in ("job", "automation", "chart")
        }

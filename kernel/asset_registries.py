"""Registries of the assets plugins contribute to the data plane and user interfaces:
database tables, MQTT-to-database sinks, export datasets and UI descriptors.

Kept apart from ``registries`` so that listing jobs and commands (``pio --help``) does not pay
for building these classes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pioreactor.kernel.errors import RegistrationError
from pioreactor.kernel.registries import NAME_PATTERN, TARGET_PATTERN, Spec

TABLE_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _strings(value: str | Sequence[str], what: str, plugin: str, name: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not items or not all(isinstance(item, str) and item.strip() for item in items):
        raise RegistrationError(f"plugin {plugin!r} registered {name!r} with no valid {what}")
    return items


@dataclass(frozen=True)
class TableSpec:
    """A table (or view) of the leader's database and the scripts that create and evolve it."""

    name: str
    plugin: str
    migrations: tuple[str, ...]
    summary: str = ""


class DatabaseTableRegistry:
    """Tables by name; each plugin owns the tables it declares, and a name declared twice is an error."""

    kind = "database table"

    def __init__(self) -> None:
        self.entries: dict[str, TableSpec] = {}

    def scoped(self, plugin: str) -> ScopedDatabaseTableRegistry:
        return ScopedDatabaseTableRegistry(self, plugin)

    def _add(self, plugin: str, name: str, migrations: str | Sequence[str], summary: str) -> None:
        if not TABLE_NAME_PATTERN.match(name):
            raise RegistrationError(f"plugin {plugin!r} registered the table name {name!r}: use letters, digits, _")
        scripts = _strings(migrations, "migrations", plugin, name)
        existing = self.entries.get(name)
        if existing is not None:
            raise RegistrationError(
                f"database table {name!r} is declared by both plugin {existing.plugin!r} and plugin "
                f"{plugin!r}; uninstall or disable one of them"
            )
        self.entries[name] = TableSpec(name, plugin, scripts, summary)

    def names(self) -> list[str]:
        return sorted(self.entries)


class ScopedDatabaseTableRegistry:
    def __init__(self, registry: DatabaseTableRegistry, plugin: str) -> None:
        self._registry = registry
        self.plugin = plugin

    def add(self, name: str, *, migrations: str | Sequence[str], summary: str = "") -> None:
        """Declare table ``name``: ``migrations`` are SQL scripts applied once each, in order."""
        self._registry._add(self.plugin, name, migrations, summary)


@dataclass(frozen=True)
class SinkSpec:
    """MQTT topic filters whose messages a parser turns into rows of a table."""

    name: str
    plugin: str
    topics: tuple[str, ...]
    parser: str
    table: str
    summary: str = ""
    timestamped: bool = True

    def load_parser(self) -> Any:
        return Spec(self.name, self.parser, self.plugin).load()


def _valid_topic_filter(topic: str) -> bool:
    levels = topic.split("/")
    return all(
        level in ("+", "#") or ("+" not in level and "#" not in level) for level in levels
    ) and "#" not in levels[:-1]


class MqttSinkRegistry:
    kind = "MQTT sink"

    def __init__(self) -> None:
        self.entries: dict[str, SinkSpec] = {}

    def scoped(self, plugin: str) -> ScopedMqttSinkRegistry:
        return ScopedMqttSinkRegistry(self, plugin)

    def _add(
        self,
        plugin: str,
        name: str,
        topics: str | Sequence[str],
        parser: str,
        table: str | None,
        summary: str,
        timestamped: bool,
    ) -> None:
        if not NAME_PATTERN.match(name):
            raise RegistrationError(
                f"plugin {plugin!r} registered the MQTT sink name {name!r}: use lowercase letters, digits, _"
            )
        filters = _strings(topics, "topics", plugin, name)
        bad = [topic for topic in filters if not _valid_topic_filter(topic)]
        if bad:
            raise RegistrationError(f"plugin {plugin!r} registered MQTT sink {name!r} with invalid topic filters {bad}")
        if not TARGET_PATTERN.match(parser):
            raise RegistrationError(
                f"plugin {plugin!r} registered MQTT sink {name!r} with parser {parser!r}: "
                "expected 'package.module:function'"
            )
        table = table or name
        if not TABLE_NAME_PATTERN.match(table):
            raise RegistrationError(f"plugin {plugin!r} registered MQTT sink {name!r} into table {table!r}")
        existing = self.entries.get(name)
        if existing is not None:
            raise RegistrationError(
                f"MQTT sink {name!r} is registered by both plugin {existing.plugin!r} and plugin "
                f"{plugin!r}; uninstall or disable one of them"
            )
        self.entries[name] = SinkSpec(name, plugin, filters, parser, table, summary, bool(timestamped))

    def names(self) -> list[str]:
        return sorted(self.entries)


class ScopedMqttSinkRegistry:
    def __init__(self, registry: MqttSinkRegistry, plugin: str) -> None:
        self._registry = registry
        self.plugin = plugin

    def add(
        self,
        name: str,
        *,
        topics: str | Sequence[str],
        parser: str,
        table: str | None = None,
        summary: str = "",
        timestamped: bool = True,
    ) -> None:
        """Send messages on ``topics`` through ``parser`` (``"module:function"``) into ``table``."""
        self._registry._add(self.plugin, name, topics, parser, table, summary, timestamped)


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset that exports can include: a table or a query, and how to present it."""

    name: str
    plugin: str
    table: str | None = None
    query: str | None = None
    description: str = ""
    display_name: str = ""
    timestamp_columns: tuple[str, ...] = ()
    has_unit: bool = True
    has_experiment: bool = True
    default_order_by: str | None = None
    always_partition_by_unit: bool = False
    column_descriptions: Mapping[str, str] = field(default_factory=dict)
    column_units: Mapping[str, str] = field(default_factory=dict)
    path: str | None = None  # the YAML file it came from, for user datasets

    @property
    def summary(self) -> str:
        return self.description.strip().splitlines()[0] if self.description.strip() else ""

    @property
    def source_sql(self) -> str:
        """The rows of the dataset, as a sub-query."""
        return f'SELECT * FROM "{self.table}"' if self.table else str(self.query)


DATASET_FIELDS = (
    "table",
    "query",
    "description",
    "display_name",
    "timestamp_columns",
    "has_unit",
    "has_experiment",
    "default_order_by",
    "always_partition_by_unit",
    "column_descriptions",
    "column_units",
)


def make_dataset(name: str, plugin: str, fields: Mapping[str, Any], path: str | None = None) -> DatasetSpec:
    """Check a dataset's fields (from a plugin or a YAML file) and build its spec."""
    where = f"dataset {name!r} ({path or 'plugin ' + repr(plugin)})"
    unknown = sorted(set(fields) - set(DATASET_FIELDS))
    if unknown:
        raise RegistrationError(f"{where}: unknown fields {unknown}; known: {', '.join(DATASET_FIELDS)}")
    if not isinstance(name, str) or not TABLE_NAME_PATTERN.match(name):
        raise RegistrationError(f"{where}: the name must be letters, digits and underscores")
    table, query = fields.get("table"), fields.get("query")
    if bool(table) == bool(query):
        raise RegistrationError(f"{where}: give exactly one of table or query")
    if table is not None and not (isinstance(table, str) and TABLE_NAME_PATTERN.match(table)):
        raise RegistrationError(f"{where}: table {table!r} is not a table name")
    if query is not None and not isinstance(query, str):
        raise RegistrationError(f"{where}: query must be SQL text")
    columns = fields.get("timestamp_columns") or ()
    columns = (columns,) if isinstance(columns, str) else tuple(columns)
    for column in columns:
        if not (isinstance(column, str) and TABLE_NAME_PATTERN.match(column)):
            raise RegistrationError(f"{where}: timestamp column {column!r} is not a column name")
    order = fields.get("default_order_by")
    if order is not None and not isinstance(order, str):
        raise RegistrationError(f"{where}: default_order_by must be text, e.g. 'timestamp'")
    mappings = {}
    for key in ("column_descriptions", "column_units"):
        value = fields.get(key) or {}
        if not isinstance(value, Mapping):
            raise RegistrationError(f"{where}: {key} must be a mapping of column to text")
        mappings[key] = {str(k): str(v) for k, v in value.items()}
    return DatasetSpec(
        name=name,
        plugin=plugin,
        table=table,
        query=query,
        description=str(fields.get("description") or ""),
        display_name=str(fields.get("display_name") or name.replace("_", " ").capitalize()),
        timestamp_columns=columns,
        has_unit=bool(fields.get("has_unit", True)),
        has_experiment=bool(fields.get("has_experiment", True)),
        default_order_by=order,
        always_partition_by_unit=bool(fields.get("always_partition_by_unit", False)),
        column_descriptions=mappings["column_descriptions"],
        column_units=mappings["column_units"],
        path=path,
    )


class ExportDatasetRegistry:
    kind = "export dataset"

    def __init__(self) -> None:
        self.entries: dict[str, DatasetSpec] = {}

    def scoped(self, plugin: str) -> ScopedExportDatasetRegistry:
        return ScopedExportDatasetRegistry(self, plugin)

    def _add(self, spec: DatasetSpec) -> None:
        existing = self.entries.get(spec.name)
        if existing is not None:
            raise RegistrationError(
                f"export dataset {spec.name!r} is registered by both plugin {existing.plugin!r} and "
                f"plugin {spec.plugin!r}; uninstall or disable one of them"
            )
        self.entries[spec.name] = spec

    def names(self) -> list[str]:
        return sorted(self.entries)


class ScopedExportDatasetRegistry:
    def __init__(self, registry: ExportDatasetRegistry, plugin: str) -> None:
        self._registry = registry
        self.plugin = plugin

    def add(self, name: str, **fields: Any) -> None:
        """Offer dataset ``name``: ``table=`` or ``query=``, plus the presentation fields."""
        self._registry._add(make_dataset(name, self.plugin, fields))


# -- user-interface descriptors: job and automation forms, charts ----------------------------
UI_FIELD_TYPES = ("float", "integer", "string", "boolean", "json")
UI_FIELD_KEYS = frozenset({"key", "label", "type", "default", "unit", "description", "choices", "settable"})
UI_DESCRIPTOR_KEYS = {
    "job": frozenset({"job_name", "display_name", "description", "fields"}),
    "automation": frozenset({"automation_name", "kind", "display_name", "description", "fields"}),
    "chart": frozenset(
        {"chart_key", "title", "topic", "payload_key", "y_axis_label", "description", "table", "column"}
    ),
}
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
        if not isinstance(topic, str) or not topic or topic.startswith(("pioreactor/", "/")) or not _valid_topic_filter(topic):
            raise RegistrationError(
                f"{where}: 'topic' is the part after pioreactor/<unit>/<experiment>/, e.g. "
                f"'stirring/measured_rpm' (wildcards + and # allowed), got {topic!r}"
            )
        for key in ("payload_key", "y_axis_label", "description", "table", "column"):
            _ui_text(where, descriptor, key)
    else:
        data["display_name"] = _ui_text(where, descriptor, "display_name", key_names[-1].replace("_", " ").capitalize())
        data["description"] = _ui_text(where, descriptor, "description")
        data["fields"] = _ui_fields(where, descriptor.get("fields"))
    return UiDescriptor(category, "/".join(key_names), plugin, data)


class UiDescriptorRegistry:
    """Job forms, automation forms and charts for user interfaces; collisions name both plugins."""

    kind = "UI descriptor"

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], UiDescriptor] = {}

    def scoped(self, plugin: str) -> ScopedUiDescriptorRegistry:
        return ScopedUiDescriptorRegistry(self, plugin)

    def _add(self, descriptor: UiDescriptor) -> None:
        key = (descriptor.category, descriptor.name)
        existing = self.entries.get(key)
        if existing is not None:
            raise RegistrationError(
                f"the {descriptor.category} UI descriptor {descriptor.name!r} is registered by both plugin "
                f"{existing.plugin!r} and plugin {descriptor.plugin!r}; uninstall or disable one of them"
            )
        self.entries[key] = descriptor

    def of(self, category: str) -> list[UiDescriptor]:
        return [spec for (kind, _), spec in sorted(self.entries.items()) if kind == category]

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        """``{"jobs": [...], "automations": [...], "charts": [...]}``, each descriptor with its plugin."""
        return {
            f"{category}s": [dict(spec.data, plugin=spec.plugin) for spec in self.of(category)]
            for category in ("job", "automation", "chart")
        }


class ScopedUiDescriptorRegistry:
    def __init__(self, registry: UiDescriptorRegistry, plugin: str) -> None:
        self._registry = registry
        self.plugin = plugin

    def add_job(self, descriptor: Mapping[str, Any]) -> None:
        """A job's form: ``job_name``, ``display_name``, ``description``, ``fields``."""
        self._registry._add(make_ui_descriptor("job", self.plugin, descriptor))

    def add_automation(self, descriptor: Mapping[str, Any]) -> None:
        """An automation's form: ``automation_name``, ``kind``, ``display_name``, ``description``, ``fields``."""
        self._registry._add(make_ui_descriptor("automation", self.plugin, descriptor))

    def add_chart(self, descriptor: Mapping[str, Any]) -> None:
        """A chart: ``chart_key``, ``title``, ``topic``, ``payload_key``, ``y_axis_label``."""
        self._registry._add(make_ui_descriptor("chart", self.plugin, descriptor))

"""The data plane's registries: the leader's database tables, the MQTT-to-database sinks and the
export datasets. Each names the hook that fills it in :mod:`pioreactor.kernel.hookspecs`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pioreactor.kernel.errors import RegistrationError
from pioreactor.kernel.registries import (
    TABLE_NAME_PATTERN,
    Registry,
    load_target,
)


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


class DatabaseTableRegistry(Registry[TableSpec]):
    """Tables by name; each plugin owns the tables it declares."""

    kind = "database table"
    contributions = (("timeseries:TimeseriesRegistry", "table"),)

    def add(self, name: str, *, migrations: str | Sequence[str], summary: str = "") -> None:
        """Declare table ``name``: ``migrations`` are SQL scripts applied once each, in order."""
        self.check_name(name, pattern=TABLE_NAME_PATTERN)
        self.put(TableSpec(name, self.plugin, _strings(migrations, "migrations", self.plugin, name), summary))


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
        return load_target(self.parser)


def valid_topic_filter(topic: str) -> bool:
    levels = topic.split("/")
    return all(
        level in ("+", "#") or ("+" not in level and "#" not in level) for level in levels
    ) and "#" not in levels[:-1]


class MqttSinkRegistry(Registry[SinkSpec]):
    kind = "MQTT sink"
    contributions = (("timeseries:TimeseriesRegistry", "sink"),)

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
        self.check_name(name)
        filters = _strings(topics, "topics", self.plugin, name)
        bad = [topic for topic in filters if not valid_topic_filter(topic)]
        if bad:
            raise RegistrationError(
                f"plugin {self.plugin!r} registered MQTT sink {name!r} with invalid topic filters {bad}"
            )
        self.check_target(name, parser, "package.module:function")
        table = self.check_name(table or name, "table", TABLE_NAME_PATTERN)
        self.put(SinkSpec(name, self.plugin, filters, parser, table, summary, bool(timestamped)))

    def target_of(self, entry: SinkSpec) -> str | None:
        return entry.parser

    def check_entry(self, entry: SinkSpec) -> None:
        if not callable(entry.load_parser()):
            raise TypeError(f"parser {entry.parser} is not callable")


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


class ExportDatasetRegistry(Registry[DatasetSpec]):
    kind = "export dataset"
    contributions = (("timeseries:TimeseriesRegistry", "dataset"),)

    def add(self, name: str, **fields: Any) -> None:
        """Offer dataset ``name``: ``table=`` or ``query=``, plus the presentation fields."""
        self.put(make_dataset(name, self.plugin, fields))

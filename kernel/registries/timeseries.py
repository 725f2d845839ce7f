"""Time series: a stream of readings declared once, from which the table, the MQTT sink, the
export dataset and the chart are derived. Filled by ``pioreactor_register_timeseries``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pioreactor.kernel.errors import RegistrationError
from pioreactor.kernel.registries import TABLE_NAME_PATTERN, Registry, load_target
from pioreactor.kernel.registries.data import (
    DatasetSpec,
    SinkSpec,
    TableSpec,
    make_dataset,
    valid_topic_filter,
)
from pioreactor.kernel.registries.ui import UiDescriptor, make_ui_descriptor

# the columns every time series starts with, as upstream's tables
LEADING_COLUMNS = "experiment TEXT NOT NULL, pioreactor_unit TEXT NOT NULL, timestamp TEXT NOT NULL"


@dataclass(frozen=True)
class TimeseriesSpec:
    """One time series and what is derived from it (each attributed to the same plugin)."""

    name: str
    plugin: str
    parser: str
    table: TableSpec
    sink: SinkSpec
    dataset: DatasetSpec | None
    chart: UiDescriptor | None
    key: tuple[str, ...] | None = ()  # the columns that, with unit and time, make a reading unique

    @property
    def series_key(self) -> str | None:
        """The column that splits one unit's readings into series (an OD or LED channel, a
        dose's event): the key, when it is one column."""
        return self.key[0] if self.key and len(self.key) == 1 else None

    def load_parser(self) -> Any:
        return load_target(self.parser)


def table_sql(name: str, columns: Mapping[str, str], key: Sequence[str] | None) -> str:
    """``CREATE TABLE`` of a time series: a reading is unique by experiment, timestamp, unit and
    ``key`` (a redelivered message is stored once); without a key, rows are indexed by time."""
    body = ", ".join([LEADING_COLUMNS, *(f"{column} {sql}" for column, sql in columns.items())])
    if key is None:
        return (
            f"CREATE TABLE IF NOT EXISTS {name} ({body});\n"
            f"CREATE INDEX IF NOT EXISTS {name}_by_time ON {name} (experiment, timestamp)"
        )
    unique = ", ".join(["experiment", "timestamp", "pioreactor_unit", *key])
    return f"CREATE TABLE IF NOT EXISTS {name} ({body}, UNIQUE ({unique}))"


class TimeseriesRegistry(Registry[TimeseriesSpec]):
    """Time series by name (the name of their table, sink and dataset)."""

    kind = "time series"

    def add(
        self,
        name: str,
        *,
        topics: str | Sequence[str],
        parser: str,
        columns: Mapping[str, str],
        key: Sequence[str] | None = (),
        units: Mapping[str, str] | None = None,
        descriptions: Mapping[str, str] | None = None,
        description: str = "",
        summary: str = "",
        timestamped: bool = True,
        migrations: Sequence[str] = (),
        dataset: bool | Mapping[str, Any] = True,
        chart: Mapping[str, Any] | None = None,
    ) -> None:
        """Declare time series ``name``: messages on ``topics`` go through ``parser`` into table
        ``name`` (``experiment``, ``pioreactor_unit``, ``timestamp``, then ``columns``, each
        ``name: SQL type``), offered for export and, with ``chart``, drawn by user interfaces."""
        self.check_name(name)
        where = f"plugin {self.plugin!r} registered time series {name!r}"
        if not isinstance(columns, Mapping) or not columns:
            raise RegistrationError(f"{where} with no columns: give a dict of column name to SQL type")
        for column, sql in columns.items():
            if not TABLE_NAME_PATTERN.match(str(column)) or not isinstance(sql, str) or not sql.strip():
                raise RegistrationError(f"{where}: column {column!r}: {sql!r} is not a name and an SQL type")
        for what, mapping in (("key", {k: "" for k in key or ()}), ("units", units or {}), ("descriptions", descriptions or {})):
            unknown = sorted(set(mapping) - set(columns))
            if unknown:
                raise RegistrationError(f"{where}: {what} name columns {unknown} that are not in columns")
        filters = (topics,) if isinstance(topics, str) else tuple(topics)
        bad = [topic for topic in filters if not isinstance(topic, str) or not valid_topic_filter(topic)]
        if not filters or bad:
            raise RegistrationError(f"{where} with invalid topic filters {bad or filters}")
        self.check_target(name, parser, "package.module:function")
        scripts = (table_sql(name, columns, key), *migrations)
        dataset_spec = None
        if dataset:
            fields: dict[str, Any] = {
                "table": name,
                "description": description,
                "timestamp_columns": ["timestamp"],
                "default_order_by": "timestamp",
                "column_descriptions": dict(descriptions or {}),
                "column_units": dict(units or {}),
            }
            fields.update(dataset if isinstance(dataset, Mapping) else {})
            dataset_spec = make_dataset(name, self.plugin, fields)
        chart_spec = None
        if chart:
            # a one-column key names the series within a unit, in the table and in each payload
            series = {"series_key": key[0]} if key and len(key) == 1 else {}
            chart_spec = make_ui_descriptor("chart", self.plugin, {"table": name, **series, **chart})
            if chart_spec.data.get("series_key") not in (None, *columns):
                raise RegistrationError(
                    f"{where}: chart's series_key {chart_spec.data['series_key']!r} is not one of its columns "
                    f"({', '.join(columns)})"
                )
        summary = summary or description.strip().split(".")[0]
        self.put(
            TimeseriesSpec(
                name,
                self.plugin,
                parser,
                TableSpec(name, self.plugin, scripts, summary),
                SinkSpec(name, self.plugin, filters, parser, name, summary, bool(timestamped)),
                dataset_spec,
                chart_spec,
                None if key is None else tuple(key),
            )
        )

    def target_of(self, entry: TimeseriesSpec) -> str | None:
        return entry.parser

    def check_entry(self, entry: TimeseriesSpec) -> None:
        if not callable(entry.load_parser()):
            raise TypeError(f"parser {entry.parser} is not callable")

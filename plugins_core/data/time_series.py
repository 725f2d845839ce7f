"""Chart data from the leader's database, down-sampled in SQL (upstream #564).

A data source is a table with ``experiment``, ``pioreactor_unit`` and ``timestamp`` columns; a
series is one unit's rows, or one unit's rows of each value of a series column (``channel`` when
the table has one; a dose's ``event``): ``unit1``, ``unit1-2``, ``unit1-add_media``.
For each series the window [now - lookback, last reading] is cut into ``target_points`` evenly
spaced instants and SQLite seeks, through an index on (experiment, unit, [series column,]
timestamp), the first reading at or after each instant. The cost is ``target_points`` index
seeks per series, whatever the table's size; a series with fewer readings in the window is
returned whole. Each point is a reading as stored, never an average of its neighbours: a dose
keeps its volume (a chart of events asks for every point instead, see ``down_sample``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pioreactor.sdk.database import canonical_timestamp

# the dedicated routes of upstream's UI: data source -> value column
DEFAULT_COLUMNS = {
    "growth_rates": "rate",
    "od_readings": "od_reading",
    "od_readings_filtered": "normalized_od_reading",
    "od_readings_fused": "od_reading",
    "raw_od_readings": "od_reading",
    "temperature_readings": "temperature_c",
}
REQUIRED_COLUMNS = frozenset({"experiment", "pioreactor_unit", "timestamp"})
MAX_TARGET_POINTS = 100_000
_indexed: set[tuple[str, str, str | None]] = set()  # (database file, table, series column) indexed


class TimeSeriesError(ValueError):
    """A bad data source, column or query parameter; ``field`` names what to fix."""

    def __init__(self, message: str, field: str, remediation: str, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.remediation = remediation
        self.status = status


@dataclass(frozen=True)
class Source:
    table: str
    column: str
    series: str | None  # the column that splits a unit's rows into series, if any


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute("SELECT * FROM pragma_table_info(?)", (table,)).fetchall()]


def resolve_source(conn: sqlite3.Connection, data_source: str, column: str | None, series_key: str | None = None) -> Source:
    """Check the table and columns against the database itself (they go into SQL as identifiers);
    without ``series_key``, a table's ``channel`` column splits its series."""
    columns = table_columns(conn, data_source)
    if not columns:
        known = sorted(
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')").fetchall()
            if REQUIRED_COLUMNS <= set(table_columns(conn, row[0]))
        )
        raise TimeSeriesError(
            f"no data source {data_source!r}",
            "data_source",
            f"use one of: {', '.join(known) or '(none yet: is mqtt_to_db_streaming running?)'}",
            404,
        )
    if not REQUIRED_COLUMNS <= set(columns):
        raise TimeSeriesError(
            f"{data_source!r} is not a time series (it needs experiment, pioreactor_unit and timestamp columns)",
            "data_source",
            "choose a table of readings, e.g. od_readings or growth_rates",
            404,
        )
    column = column or DEFAULT_COLUMNS.get(data_source)
    if column is None:
        raise TimeSeriesError(
            f"give the column of {data_source!r} to plot",
            "column",
            f"add it to the path: .../time_series/{data_source}/<column>, one of {', '.join(columns)}",
            404,
        )
    if column not in columns or column in REQUIRED_COLUMNS:
        raise TimeSeriesError(
            f"{data_source!r} has no value column {column!r}",
            "column",
            f"use one of: {', '.join(c for c in columns if c not in REQUIRED_COLUMNS)}",
            404,
        )
    if series_key is not None and (series_key not in columns or series_key in REQUIRED_COLUMNS or series_key == column):
        raise TimeSeriesError(
            f"{data_source!r} cannot be split into series by {series_key!r}",
            "series_key",
            f"use a column that names a series within a unit, one of: "
            f"{', '.join(c for c in columns if c not in REQUIRED_COLUMNS and c != column)}",
        )
    return Source(data_source, column, series_key or ("channel" if "channel" in columns else None))


def ensure_series_index(conn: sqlite3.Connection, source: Source) -> None:
    """Create the index the seeks need, once per table (skipped quietly on a read-only database)."""
    database = conn.execute("PRAGMA database_list").fetchone()[2]
    if (database, source.table, source.series) in _indexed:
        return
    keys = f'experiment, pioreactor_unit, "{source.series}", timestamp' if source.series else "experiment, pioreactor_unit, timestamp"
    # the name databases already have for the unsplit and the channel index; another column's its own
    name = f"{source.table}_time_series" if source.series in (None, "channel") else f"{source.table}_time_series_by_{source.series}"
    try:
        conn.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{source.table}" ({keys})')
    except sqlite3.OperationalError:
        return  # read-only or locked: the queries still work, only slower
    _indexed.add((database, source.table, source.series))


def parse_parameters(args: Any) -> tuple[float, int]:
    """``lookback`` (hours, default 4) and ``target_points`` (default 720) from a query string."""
    try:
        lookback = float(args.get("lookback", 4.0))
    except ValueError:
        raise TimeSeriesError(
            f"lookback must be a number of hours, got {args.get('lookback')!r}", "lookback", "e.g. lookback=24"
        ) from None
    if not (lookback >= 0 and lookback != float("inf")):
        raise TimeSeriesError(f"lookback must be a finite number >= 0, got {lookback}", "lookback", "e.g. lookback=24")
    try:
        target_points = int(float(args.get("target_points", 720)))
    except ValueError:
        raise TimeSeriesError(
            f"target_points must be a whole number, got {args.get('target_points')!r}",
            "target_points",
            "e.g. target_points=720",
        ) from None
    if target_points < 2:
        raise TimeSeriesError(
            f"target_points must be at least 2, got {target_points}", "target_points", "e.g. target_points=720"
        )
    return lookback, min(target_points, MAX_TARGET_POINTS)


def _distinct(conn: sqlite3.Connection, table: str, column: str, where: str, args: tuple[Any, ...]) -> list[Any]:
    """The distinct values of ``column`` among rows matching ``where``, by skipping along the index."""
    rows = conn.execute(
        f"""
        WITH RECURSIVE v(x) AS (
            SELECT min("{column}") FROM "{table}" WHERE {where}
            UNION ALL
            SELECT (SELECT min("{column}") FROM "{table}" WHERE {where} AND "{column}" > v.x) FROM v WHERE x IS NOT NULL
        )
        SELECT x FROM v WHERE x IS NOT NULL
        """,
        (*args, *args),
    ).fetchall()
    return [row[0] for row in rows]


def _series_keys(conn: sqlite3.Connection, source: Source, experiment: str, unit: str | None) -> list[tuple[Any, ...]]:
    units = [unit] if unit is not None else _distinct(conn, source.table, "pioreactor_unit", "experiment = ?", (experiment,))
    if not source.series:
        return [(u,) for u in units]
    return [
        (u, value)
        for u in units
        for value in _distinct(conn, source.table, source.series, "experiment = ? AND pioreactor_unit = ?", (experiment, u))
    ]


def _parse(timestamp: str) -> datetime:
    value = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _series(
    conn: sqlite3.Connection,
    source: Source,
    experiment: str,
    key: tuple[Any, ...],
    lookback_h: float,
    target: int,
    now: datetime,
    hold: bool = False,
) -> list[dict[str, Any]]:
    where = "experiment = ? AND pioreactor_unit = ?" + (f' AND "{source.series}" = ?' if source.series else "")
    args = (experiment, *key)
    last = conn.execute(
        f'SELECT max(timestamp) FROM "{source.table}" WHERE {where}', args
    ).fetchone()[0]
    if last is None:
        return []
    # on a scaled clock (the simulator) readings can be ahead of the wall clock: look back from them
    end = max(now, _parse(last))
    cutoff = canonical_timestamp(end - timedelta(hours=lookback_h))
    window = f"{where} AND timestamp > ?"
    count = conn.execute(
        f'SELECT count(*) FROM (SELECT 1 FROM "{source.table}" WHERE {window} LIMIT ?)', (*args, cutoff, target + 1)
    ).fetchone()[0]
    value = f'"{source.column}"'
    if count <= target:
        rows = conn.execute(
            f'SELECT timestamp, {value} FROM "{source.table}" WHERE {window} ORDER BY timestamp', (*args, cutoff)
        ).fetchall()
    else:
        first = conn.execute(
            f'SELECT min(timestamp) FROM "{source.table}" WHERE {window}', (*args, cutoff)
        ).fetchone()[0]
        start = _parse(first).timestamp()
        step = (_parse(last).timestamp() - start) / (target - 1)
        # the instants are made by SQLite too (formatting them in Python cost as much as the seeks)
        rows = conn.execute(
            f"""
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?),
            instant(t) AS (
                SELECT strftime('%Y-%m-%dT%H:%M:%S', s, 'unixepoch') || printf('.%06dZ', (s - CAST(s AS INTEGER)) * 1000000)
                FROM (SELECT ? + i * ? AS s FROM n)
                UNION ALL SELECT ?
            )
            SELECT r.timestamp, r.{value}
            FROM (SELECT DISTINCT (
                    SELECT rowid FROM "{source.table}" WHERE {where} AND timestamp >= instant.t
                    ORDER BY timestamp LIMIT 1) AS picked
                  FROM instant) AS p
            JOIN "{source.table}" AS r ON r.rowid = p.picked
            ORDER BY r.timestamp
            """,
            (target - 2, start, step, last, *args),
        ).fetchall()
    points = [{"x": timestamp, "y": y} for timestamp, y in rows if y is not None]
    if hold:
        # a value that holds until it changes (an LED's intensity) was already set when the
        # window starts: it is the window's first point
        before = conn.execute(
            f'SELECT {value} FROM "{source.table}" WHERE {where} AND timestamp <= ? AND {value} IS NOT NULL '
            "ORDER BY timestamp DESC LIMIT 1",
            (*args, cutoff),
        ).fetchone()
        if before is not None:
            points.insert(0, {"x": cutoff, "y": before[0]})
    return points


def query_time_series(
    conn: sqlite3.Connection,
    experiment: str,
    data_source: str,
    column: str | None = None,
    *,
    unit: str | None = None,
    series_key: str | None = None,
    lookback_hours: float = 4.0,
    target_points: int = 720,
    hold: bool = False,
    now: datetime | None = None,
) -> dict[str, list[Any]]:
    """``{"series": [name, ...], "data": [[{"x": timestamp, "y": value}, ...], ...]}`` as upstream's UI
    reads it; series are named ``<unit>``, or ``<unit>-<value>`` of the series column (``series_key``,
    else ``channel`` if the table has one). With ``hold``, each series starts with the value it had
    when the window opens (the last one before it), for values that hold until they change."""
    source = resolve_source(conn, data_source, column, series_key)
    ensure_series_index(conn, source)
    now = now or datetime.now(UTC)
    names: list[str] = []
    data: list[list[dict[str, Any]]] = []
    for key in _series_keys(conn, source, experiment, unit):
        points = _series(conn, source, experiment, key, lookback_hours, target_points, now, hold)
        if points:
            names.append("-".join(str(part) for part in key))
            data.append(points)
    return {"series": names, "data": data}


def media_rates(conn: sqlite3.Connection, experiment: str, *, hours: float = 3.0, now: datetime | None = None) -> dict[str, dict[str, float]]:
    """Media and alt-media added by each unit per hour over the last ``hours``, plus ``all``."""
    since = canonical_timestamp((now or datetime.now(UTC)) - timedelta(hours=hours))
    result: dict[str, dict[str, float]] = {}
    total = {"mediaRate": 0.0, "altMediaRate": 0.0}
    if not table_columns(conn, "dosing_events"):
        return {"all": total}
    rows = conn.execute(
        "SELECT pioreactor_unit, "
        "coalesce(sum(CASE WHEN event = 'add_media' THEN volume_change_ml END), 0), "
        "coalesce(sum(CASE WHEN event = 'add_alt_media' THEN volume_change_ml END), 0) "
        "FROM dosing_events WHERE experiment = ? AND timestamp >= ? AND event IN ('add_media', 'add_alt_media') "
        "GROUP BY pioreactor_unit ORDER BY pioreactor_unit",
        (experiment, since),
    ).fetchall()
    for unit, media, alt_media in rows:
        result[unit] = {"mediaRate": media / hours, "altMediaRate": alt_media / hours}
        total["mediaRate"] += media / hours
        total["altMediaRate"] += alt_media / hours
    result["all"] = total
    return result

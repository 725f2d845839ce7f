"""The data plugin's HTTP routes (leader, ``/api``): chart time series, media rates and
exportable datasets (list, preview, export to a zip served under ``/exports/``).

Paths and bodies are those upstream's UI calls, in its 26.11 form and its 25.11 form
(``/contrib/exportable_datasets...``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue
from pioreactor.plugins_core.web.api import ApiError, json_body, submit_task

PREVIEW_ROWS = 5
MAX_PREVIEW_ROWS = 100


@contextmanager
def _database() -> Iterator[sqlite3.Connection]:
    from pioreactor.sdk.database import DatabaseError, open_database

    try:
        conn = open_database(report=False)
    except DatabaseError as err:
        raise ApiError(503, "The database cannot be opened", str(err), "check [storage] database in config.ini") from None
    try:
        yield conn
    finally:
        conn.close()


# -- time series ---------------------------------------------------------------------------------
def _series_key_of(data_source: str) -> str | None:
    """The column a declared time series splits its series by (its one-column key: an OD channel,
    a dose's event); ``None`` for a table declared otherwise (its ``channel`` column, if any)."""
    from pioreactor.sdk.plugins import registered

    spec = registered("pioreactor_register_timeseries").entries.get(data_source)
    return spec.series_key if spec is not None else None


def _time_series(experiment: str, data_source: str, column: str | None, unit: str | None) -> ResponseReturnValue:
    from pioreactor.plugins_core.data.time_series import TimeSeriesError, parse_parameters, query_time_series

    try:
        lookback, target_points = parse_parameters(request.args)
        series_key = request.args.get("series_key") or _series_key_of(data_source)
        with _database() as conn:
            result = query_time_series(
                conn,
                experiment,
                data_source,
                column,
                unit=unit,
                series_key=series_key,
                lookback_hours=lookback,
                target_points=target_points,
                hold=request.args.get("hold") in ("1", "true"),
            )
    except TimeSeriesError as err:
        raise ApiError(err.status, str(err), f"bad {err.field}", err.remediation) from None
    import msgspec

    # thousands of points: msgspec encodes them several times faster than the json module
    response = Response(msgspec.json.encode(result), mimetype="application/json")
    response.headers["Cache-Control"] = "max-age=5"
    return response


def experiment_time_series(experiment: str, data_source: str) -> ResponseReturnValue:
    """Chart data of every unit: ``?target_points=720&lookback=<hours>``, down-sampled in SQL;
    ``series_key=<column>`` splits each unit's series by that column (default: the declared
    time series' one-column key, else ``channel``); ``hold=1`` starts each series with the value
    it had when the window opens (for values that hold until they change, like an LED's)."""
    return _time_series(experiment, data_source, None, None)


def experiment_time_series_column(experiment: str, data_source: str, column: str) -> ResponseReturnValue:
    """Chart data of any column of a table of readings, for every unit."""
    return _time_series(experiment, data_source, column, None)


def unit_time_series(pioreactor_unit: str, experiment: str, data_source: str) -> ResponseReturnValue:
    """Chart data of one unit."""
    return _time_series(experiment, data_source, None, pioreactor_unit)


def unit_time_series_column(pioreactor_unit: str, experiment: str, data_source: str, column: str) -> ResponseReturnValue:
    """Chart data of one column of a table, for one unit."""
    return _time_series(experiment, data_source, column, pioreactor_unit)


def media_rates(experiment: str) -> ResponseReturnValue:
    """Media and alt media added per hour over the last 3 hours, per unit and ``all``."""
    from pioreactor.plugins_core.data.time_series import media_rates as rates

    with _database() as conn:
        return jsonify(rates(conn, experiment))


# -- exportable datasets -------------------------------------------------------------------------
def _describe(spec: Any) -> dict[str, Any]:
    return {
        "dataset_name": spec.name,
        "display_name": spec.display_name,
        "description": spec.description,
        "source": spec.plugin,
        "table": spec.table,
        "query": spec.query,
        "has_experiment": spec.has_experiment,
        "has_unit": spec.has_unit,
        "default_order_by": spec.default_order_by,
        "timestamp_columns": list(spec.timestamp_columns),
        "always_partition_by_unit": spec.always_partition_by_unit,
        "column_descriptions": dict(spec.column_descriptions),
        "column_units": dict(spec.column_units),
    }


def list_datasets() -> ResponseReturnValue:
    """Every dataset an export can include: the plugins' and the YAML files of ``exportable_datasets/``."""
    from pioreactor.plugins_core.data.datasets import all_datasets

    return jsonify([_describe(spec) for spec in all_datasets(report=False).values()])


def preview_dataset(target_dataset: str) -> ResponseReturnValue:
    """The first rows of a dataset (``?n_rows=`` up to 100, default 5)."""
    from pioreactor.plugins_core.data.datasets import all_datasets

    spec = all_datasets(report=False).get(target_dataset)
    if spec is None:
        raise ApiError(404, f"no dataset {target_dataset!r}", "unknown dataset_name", "GET /api/datasets/exportable lists them")
    try:
        n_rows = int(request.args.get("n_rows", PREVIEW_ROWS))
    except ValueError:
        raise ApiError(400, f"n_rows must be a whole number, got {request.args.get('n_rows')!r}", "bad n_rows", "e.g. n_rows=5") from None
    if not 1 <= n_rows <= MAX_PREVIEW_ROWS:
        raise ApiError(400, f"n_rows must be between 1 and {MAX_PREVIEW_ROWS}, got {n_rows}", "bad n_rows", "e.g. n_rows=5")
    with _database() as conn:
        try:
            cursor = conn.execute(f"SELECT * FROM ({spec.source_sql}) LIMIT ?", (n_rows,))
        except sqlite3.Error as err:
            raise ApiError(
                400, f"dataset {target_dataset!r} cannot be read yet", str(err), "its table appears once data streams in"
            ) from None
        names = [column[0] for column in cursor.description]
        return jsonify([dict(zip(names, row, strict=True)) for row in cursor.fetchall()])


def exports_dir() -> Path:
    """Where export zips go: the folder the web server serves under ``/exports/``."""
    from pioreactor.plugins_core.web.api import exports_folder

    return exports_folder()


def export_datasets() -> ResponseReturnValue:
    """Export datasets of one experiment to a zip; a task whose result names the file under /exports/.

    Body: ``{"experiment", "datasets": [...], "partition_by_unit", "partition_by_experiment",
    "start_time", "end_time"}`` (25.11's UI sends ``"experiments": [one]``).
    """
    from pioreactor.plugins_core.data.datasets import all_datasets
    from pioreactor.plugins_core.data.export import parse_time
    from pioreactor.sdk import PioreactorError

    body = json_body()
    experiment = body.get("experiment")
    if experiment is None and isinstance(body.get("experiments"), list):
        if len(body["experiments"]) != 1:
            raise ApiError(
                400, "an export covers exactly one experiment", "experiments: give one", 'e.g. "experiment": "exp1"'
            )
        experiment = body["experiments"][0]
    if not isinstance(experiment, str) or not experiment:
        raise ApiError(400, "experiment is required", "experiment: missing or empty", 'e.g. "experiment": "exp1"')
    datasets = body.get("datasets")
    if not isinstance(datasets, list) or not datasets or not all(isinstance(d, str) for d in datasets):
        raise ApiError(400, "datasets must be a non-empty list of dataset names", "datasets", 'e.g. "datasets": ["od_readings"]')
    available = all_datasets(report=False)
    unknown = [name for name in datasets if name not in available]
    if unknown:
        raise ApiError(
            400, f"unknown datasets {unknown}", "datasets", f"choose among {', '.join(available)}"
        )
    try:
        start = parse_time(body.get("start_time"), "start_time")
        end = parse_time(body.get("end_time"), "end_time")
    except PioreactorError as err:
        raise ApiError(400, str(err), "start_time/end_time", "ISO 8601 with Z or an offset, e.g. 2026-01-31T00:00:00Z") from None
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in experiment)[:60] or "experiment"
    filename = f"export_{safe}_{time.strftime('%Y%m%d%H%M%S', time.gmtime())}.zip"
    return submit_task(
        "pioreactor.plugins_core.data.routes:run_export",
        str(exports_dir()),
        experiment,
        list(dict.fromkeys(datasets)),
        filename,
        start=start,
        end=end,
        partition_by_unit=bool(body.get("partition_by_unit", False)),
    )


def run_export(
    folder_name: str,
    experiment: str, datasets: list[str], filename: str, *, start: str | None, end: str | None, partition_by_unit: bool
) -> dict[str, Any]:
    """The export task: write the zip into the exports folder; ``filename`` is what to download."""
    from pioreactor.plugins_core.data.datasets import all_datasets
    from pioreactor.plugins_core.data.export import export_to_zip

    available = all_datasets(report=False)
    folder = Path(folder_name)
    folder.mkdir(parents=True, exist_ok=True)
    results = export_to_zip(
        folder / filename,
        experiment,
        [available[name] for name in datasets],
        start=start,
        end=end,
        partition_by_unit=partition_by_unit,
    )
    return {
        "result": True,
        "filename": filename,
        "url_path": f"/exports/{filename}",
        "rows": {r.spec.name: r.rows for r in results},
        "msg": "Finished",
    }

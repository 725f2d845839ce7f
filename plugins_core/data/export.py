"""``pio run export_experiment_data``: an experiment's datasets as a zip of CSV files.

One folder per dataset in the zip, one CSV per dataset (or per unit with
``--partition-by-unit``, per experiment with ``--partition-by-experiment``, or both), and ``manifest.json`` with the filters, the files with their row counts,
and a description of every column. Each timestamp column ``X`` gets a ``X_localtime`` column
(the leader's time zone) and, for datasets of an experiment, ``hours_since_experiment_created``.

Rows are streamed from SQLite to the compressed CSV a few thousand at a time, so memory stays flat
however large the table; the database is opened read-only and the streamer keeps writing.
"""

from __future__ import annotations

import functools
import io
import json
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pioreactor.sdk import PioreactorError
from pioreactor.sdk.database import DatasetSpec, canonical_timestamp, connect

if TYPE_CHECKING:  # csv and zipfile are imported where an export uses them: every process
    import zipfile  # imports this plugin module (the fork server too), few export

FETCH_ROWS = 5000
ORDER_BY = re.compile(r"^\s*[A-Za-z_]\w*(\s+(ASC|DESC))?(\s*,\s*[A-Za-z_]\w*(\s+(ASC|DESC))?)*\s*$", re.I)
STANDARD_COLUMNS = {
    "experiment": "name of the experiment",
    "pioreactor_unit": "the unit (Pioreactor) the row comes from",
    "timestamp": "when it happened, in UTC (ISO 8601)",
    "hours_since_experiment_created": "hours from the creation of the experiment to the row's first timestamp column",
}


class ExportError(PioreactorError):
    pass


@dataclass
class ExportedFile:
    path: str
    rows: int
    unit: str | None = None
    experiment: str | None = None


@dataclass
class DatasetExport:
    spec: DatasetSpec
    columns: list[str] = field(default_factory=list)
    files: list[ExportedFile] = field(default_factory=list)
    skipped: str | None = None

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def parse_time(value: str | None, option: str) -> str | None:
    """A time bound with a time zone (``Z`` or ``+02:00``), as canonical UTC text."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ExportError(
            f"{option} {value!r} is not an ISO 8601 time such as 2026-03-01T12:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise ExportError(f"{option} {value!r} has no time zone: add Z (UTC) or an offset such as +01:00")
    return canonical_timestamp(moment.astimezone(UTC))


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "_"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Exporter:
    """Builds and runs the query of each dataset; writes CSVs into an open zip file."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        experiments: str | list[str],
        *,
        start: str | None = None,
        end: str | None = None,
        partition_by_unit: bool = False,
        partition_by_experiment: bool = False,
        progress: Callable[[int], None] = lambda rows: None,
    ) -> None:
        self.conn = conn
        self.experiments = [experiments] if isinstance(experiments, str) else list(dict.fromkeys(experiments))
        if not self.experiments:
            raise ExportError("give at least one experiment to export")
        self.start = start
        self.end = end
        self.partition_by_unit = partition_by_unit
        self.partition_by_experiment = partition_by_experiment
        self.progress = progress
        self.stamp = time.strftime("%Y%m%d%H%M%S")
        self.created: dict[str, str] = {}
        if self.has_table("experiments"):
            marks = ", ".join("?" for _ in self.experiments)
            rows = conn.execute(
                f"SELECT experiment, created_at FROM experiments WHERE experiment IN ({marks})", self.experiments
            )
            self.created = {str(e): str(c) for e, c in rows if c}

    @property
    def experiment(self) -> str:
        return self.experiments[0]

    @property
    def created_at(self) -> str | None:
        """When the (first) experiment was created."""
        return self.created.get(self.experiment)

    def has_table(self, name: str) -> bool:
        found = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (name,)
        ).fetchone()
        return found is not None

    def query(
        self,
        spec: DatasetSpec,
        unit: str | None = None,
        *,
        ordered: bool = True,
        experiment: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        select = ["T.*"]
        params: dict[str, Any] = {}
        for column in spec.timestamp_columns:
            select.append(
                f"strftime('%Y-%m-%dT%H:%M:%f', T.{_quote(column)}, 'localtime') AS {_quote(column + '_localtime')}"
            )
        where = []
        if spec.has_experiment:
            wanted = [experiment] if experiment is not None else self.experiments
            names = [f"experiment{i}" for i in range(len(wanted))]
            where.append(f"T.experiment IN ({', '.join(':' + n for n in names)})")
            params.update(zip(names, wanted, strict=True))
            if self.created and spec.timestamp_columns:
                first = _quote(spec.timestamp_columns[0])
                # each row against the creation of its own experiment
                cases = " ".join(
                    f"WHEN :created_exp{i} THEN :created_at{i}" for i in range(len(self.created))
                )
                for i, (name, created) in enumerate(self.created.items()):
                    params[f"created_exp{i}"], params[f"created_at{i}"] = name, created
                select.append(
                    f"(julianday(T.{first}) - julianday(CASE T.experiment {cases} END)) * 24.0 "
                    "AS hours_since_experiment_created"
                )
        if spec.timestamp_columns:
            first = _quote(spec.timestamp_columns[0])
            if self.start:
                where.append(f"T.{first} >= :start")
                params["start"] = self.start
            if self.end:
                where.append(f"T.{first} <= :end")
                params["end"] = self.end
        if unit is not None:
            where.append("T.pioreactor_unit = :unit")
            params["unit"] = unit
        sql = f"SELECT {', '.join(select)} FROM ({spec.source_sql}) AS T"
        if where:
            sql += " WHERE " + " AND ".join(where)
        if spec.default_order_by and ordered:
            if not ORDER_BY.match(spec.default_order_by):
                raise ExportError(
                    f"dataset {spec.name}: default_order_by {spec.default_order_by!r} is not a list of columns"
                )
            terms = [term.strip().split() for term in spec.default_order_by.split(",")]
            sql += " ORDER BY " + ", ".join(" ".join([f"T.{_quote(t[0])}", *t[1:]]) for t in terms)
        return sql, params

    def count(self, spec: DatasetSpec) -> int:
        sql, params = self.query(spec, ordered=False)
        return int(self.conn.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0])

    def units(self, spec: DatasetSpec, experiment: str | None = None) -> list[str]:
        sql, params = self.query(spec, ordered=False, experiment=experiment)
        rows = self.conn.execute(f"SELECT DISTINCT pioreactor_unit FROM ({sql}) ORDER BY 1", params)
        return [str(r[0]) for r in rows]

    def export(self, spec: DatasetSpec, archive: zipfile.ZipFile) -> DatasetExport:
        result = DatasetExport(spec)
        by_unit = spec.has_unit and (self.partition_by_unit or spec.always_partition_by_unit)
        by_experiment = spec.has_experiment and self.partition_by_experiment
        experiments: list[str | None] = list(self.experiments) if by_experiment else [None]
        for experiment in experiments:
            label = _safe(experiment or self._experiments_label())
            for unit in self.units(spec, experiment) if by_unit else [None]:
                name = f"{spec.name}/{spec.name}-{label}-{_safe(unit) if unit else 'all_units'}-{self.stamp}.csv"
                sql, params = self.query(spec, unit, experiment=experiment)
                cursor = self.conn.execute(sql, params)
                result.columns = [d[0] for d in cursor.description]
                rows = self._write_csv(archive, name, result.columns, _batches(cursor))
                result.files.append(ExportedFile(name, rows, unit, experiment))
        return result

    def _experiments_label(self) -> str:
        if len(self.experiments) == 1:
            return self.experiments[0]
        joined = "+".join(self.experiments)
        return joined if len(joined) <= 80 else f"{len(self.experiments)}_experiments"

    def _write_csv(
        self,
        archive: zipfile.ZipFile,
        name: str,
        columns: list[str],
        batches: Iterator[list[tuple[Any, ...]]],
    ) -> int:
        import csv
        import zipfile

        count = 0
        info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
        info.compress_type = archive.compression
        info._compresslevel = archive.compresslevel  # type: ignore[attr-defined]  # as ZipFile.open(name) does
        with archive.open(info, "w", force_zip64=True) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=False)
            writer = csv.writer(text)
            writer.writerow(columns)
            for batch in batches:
                writer.writerows(batch)
                count += len(batch)
                self.progress(len(batch))
            text.flush()
            text.detach()
        return count


def _batches(cursor: sqlite3.Cursor) -> Iterator[list[tuple[Any, ...]]]:
    while True:
        rows = cursor.fetchmany(FETCH_ROWS)
        if not rows:
            return
        yield rows


def describe_columns(spec: DatasetSpec, columns: list[str]) -> list[dict[str, str]]:
    described = []
    for column in columns:
        text = spec.column_descriptions.get(column) or STANDARD_COLUMNS.get(column, "")
        if not text and column.endswith("_localtime"):
            text = f"{column[: -len('_localtime')]} in the leader's local time"
        entry = {"name": column, "description": text}
        if column in spec.column_units:
            entry["unit"] = spec.column_units[column]
        elif column == "hours_since_experiment_created":
            entry["unit"] = "h"
        described.append(entry)
    return described


def export_to_zip(
    output: Path,
    experiment: str | list[str],
    datasets: list[DatasetSpec],
    *,
    start: str | None = None,
    end: str | None = None,
    partition_by_unit: bool = False,
    partition_by_experiment: bool = False,
    conn: sqlite3.Connection | None = None,
    progress: Callable[[int], None] = lambda rows: None,
    on_dataset: Callable[[DatasetSpec, Callable[[], int]], None] = lambda spec, count: None,
) -> list[DatasetExport]:
    """Write the zip at ``output`` (through a temporary file, so a failed export leaves nothing)."""
    import zipfile

    own = conn is None
    conn = conn or connect(readonly=True)
    partial = output.with_name(output.name + ".partial")
    try:
        exporter = Exporter(
            conn,
            experiment,
            start=start,
            end=end,
            partition_by_unit=partition_by_unit,
            partition_by_experiment=partition_by_experiment,
            progress=progress,
        )
        results = []
        with zipfile.ZipFile(
            partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1, allowZip64=True
        ) as archive:
            for spec in datasets:
                if spec.table and not exporter.has_table(spec.table):
                    results.append(DatasetExport(spec, skipped=f"no table {spec.table} in the database yet"))
                    continue
                on_dataset(spec, functools.partial(exporter.count, spec))
                try:
                    results.append(exporter.export(spec, archive))
                except sqlite3.Error as err:
                    raise ExportError(f"dataset {spec.name}: the query failed: {err}") from None
            manifest = {
                "schema_version": 1,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                "filters": {
                    # the first experiment (as before several could be given), then all of them
                    "experiment": exporter.experiment,
                    "experiments": exporter.experiments,
                    "start_time": start,
                    "end_time": end,
                    "partition_by_unit": partition_by_unit,
                    "partition_by_experiment": partition_by_experiment,
                    "datasets": [spec.name for spec in datasets],
                },
                "experiment_created_at": exporter.created_at,
                "experiments_created_at": exporter.created,
                "datasets": [
                    {
                        "name": r.spec.name,
                        "display_name": r.spec.display_name,
                        "description": r.spec.description,
                        "source": r.spec.plugin,
                        "rows": r.rows,
                        "files": [
                            {"path": f.path, "rows": f.rows, "pioreactor_unit": f.unit, "experiment": f.experiment}
                            for f in r.files
                        ],
                        "columns": describe_columns(r.spec, r.columns),
                        **({"skipped": r.skipped} if r.skipped else {}),
                    }
                    for r in results
                ],
            }
            archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        partial.replace(output)
        return results
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        if own:
            conn.close()


@click.command()
@click.option(
    "--experiment",
    "experiments",
    multiple=True,
    metavar="NAME",
    help="An experiment to export (repeatable: their rows go together unless --partition-by-experiment).",
)
@click.option(
    "--dataset-name",
    "dataset_names",
    multiple=True,
    metavar="NAME",
    help="A dataset to include (repeatable) [default: all].",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("export.zip"),
    show_default=True,
    help="The zip file to write.",
)
@click.option("--start-time", help="Only rows at or after this time (ISO 8601 with Z or an offset).")
@click.option("--end-time", help="Only rows at or before this time (ISO 8601 with Z or an offset).")
@click.option("--partition-by-unit", is_flag=True, help="One CSV per unit instead of one per dataset.")
@click.option(
    "--partition-by-experiment", is_flag=True, help="One CSV per experiment instead of one per dataset."
)
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
@click.option("--list", "list_only", is_flag=True, help="List the datasets that can be exported, and exit.")
def export_experiment_data(
    experiments: tuple[str, ...],
    dataset_names: tuple[str, ...],
    output: Path,
    start_time: str | None,
    end_time: str | None,
    partition_by_unit: bool,
    partition_by_experiment: bool,
    force: bool,
    list_only: bool,
) -> None:
    """Export an experiment's data as a zip of CSV files, one folder per dataset, with a manifest."""
    from pioreactor.plugins_core.data.datasets import all_datasets

    available = all_datasets()
    if list_only:
        width = max((len(name) for name in available), default=10)
        for name, spec in available.items():
            click.echo(f"{name:<{width}}  {spec.summary}  [{spec.plugin}]")
        return
    if not experiments:
        raise click.UsageError("--experiment is required (repeat it to export several experiments)")
    if output.suffix != ".zip":
        raise click.UsageError(f"--output must end in .zip, got {output}")
    if not output.parent.is_dir():
        raise click.UsageError(f"--output {output}: the folder {output.parent} does not exist; create it first")
    if output.exists() and not force:
        raise click.UsageError(f"--output {output} exists already: choose another name, or add --force to replace it")
    unknown = [name for name in dataset_names if name not in available]
    if unknown:
        raise click.UsageError(
            f"unknown datasets {unknown}; `pio run export_experiment_data --list` shows them"
        )
    chosen = (
        [available[name] for name in dict.fromkeys(dataset_names)]
        if dataset_names
        else list(available.values())
    )
    try:
        start, end = parse_time(start_time, "--start-time"), parse_time(end_time, "--end-time")
        started = time.monotonic()
        bar = _ProgressBar()
        try:
            results = export_to_zip(
                output,
                list(experiments),
                chosen,
                start=start,
                end=end,
                partition_by_unit=partition_by_unit,
                partition_by_experiment=partition_by_experiment,
                progress=bar.update,
                on_dataset=bar.start,
            )
        finally:
            bar.finish()
    except PioreactorError as err:
        raise click.ClickException(str(err)) from None
    elapsed = time.monotonic() - started
    total = sum(r.rows for r in results)
    for r in results:
        note = f" (skipped: {r.skipped})" if r.skipped else ""
        click.echo(f"  {r.spec.name}: {r.rows} rows{note}", err=True)
    if all(r.rows == 0 for r in results):
        names = ", ".join(repr(e) for e in experiments)
        click.echo(f"Warning: no rows for experiment(s) {names}. Is the name right?", err=True)
    click.echo(f"Exported {total} rows of {len(results)} datasets to {output} in {elapsed:.1f} s.")


class _ProgressBar:
    """One click progress bar per dataset, on stderr (drawn only on a terminal)."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._context: Any = None

    def start(self, spec: DatasetSpec, count: Callable[[], int]) -> None:
        self.finish()
        if not sys.stderr.isatty():
            return
        self._context = click.progressbar(
            length=max(count(), 1), label=f"{spec.name:<28}", file=sys.stderr, show_pos=True
        )
        self._bar = self._context.__enter__()

    def update(self, rows: int) -> None:
        if self._bar is not None:
            self._bar.update(rows)

    def finish(self) -> None:
        if self._context is not None:
            self._context.__exit__(None, None, None)
        self._bar = self._context = None

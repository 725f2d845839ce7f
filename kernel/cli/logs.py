"""``pio log`` writes to the unit's log (file and MQTT); ``pio logs`` reads the log file."""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

import click

LEVELS = ["debug", "info", "notice", "warning", "error", "critical"]


@click.command()
@click.option("-m", "--message", required=True, help="The text to log.")
@click.option("-l", "--level", type=click.Choice(LEVELS), default="info", show_default=True)
@click.option("-n", "--name", default="CLI", show_default=True, help="Who is logging (the task field).")
@click.option("--local-only", is_flag=True, help="Only the log file, not MQTT.")
def log(message: str, level: str, name: str, local_only: bool) -> None:
    """Write a message to the unit's log file and to MQTT (where the UI and database see it)."""
    import logging

    from pioreactor.kernel import identity
    from pioreactor.kernel.bus import Bus
    from pioreactor.kernel.logs import NOTICE, close_logging, get_logger, setup_logging

    unit, experiment = identity.get_unit_name(), identity.get_assigned_experiment()
    bus = None
    if not local_only:
        bus = Bus("pio-log")
        bus.connect()
    setup_logging(unit=unit, experiment=experiment, bus=bus, console=False)
    numeric = NOTICE if level == "notice" else logging.getLevelName(level.upper())
    get_logger(name).log(numeric, message)
    close_logging()
    if bus is not None:
        bus.close()


@click.command()
@click.option("-n", "--lines", default=100, show_default=True, type=click.IntRange(min=0), help="How many of the last lines to show.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines as they are written.")
@click.option(
    "--from-db",
    is_flag=True,
    help="Read every unit's logs from the leader's database (what mqtt_to_db_streaming stored).",
)
@click.option("--experiment", help="With --from-db: only this experiment's logs.")
@click.option("--unit", help="With --from-db: only this unit's logs.")
def logs(lines: int, follow: bool, from_db: bool, experiment: str | None, unit: str | None) -> None:
    """Show the end of the unit's log file ([logging] log_file), or with --from-db the cluster's logs."""
    if from_db:
        _logs_from_database(lines, follow, experiment, unit)
        return
    if experiment or unit:
        raise click.UsageError("--experiment and --unit need --from-db")
    from pioreactor.kernel.logs import log_file_path

    path = log_file_path()
    if not path.exists():
        click.echo(f"No log file yet at {path}.", err=True)
        if not follow:
            return
        while not path.exists():
            time.sleep(0.25)
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in deque(handle, maxlen=lines):
            click.echo(line, nl=False)
        if not follow:
            return
        try:
            while True:
                line = handle.readline()
                if line:
                    click.echo(line, nl=False)
                else:
                    time.sleep(0.2)
        except KeyboardInterrupt:
            pass


def _database_path() -> Path:
    """``[storage] database`` (declared by the data plugin), else ``$PIO_HOME/storage/pioreactor.sqlite``."""
    from pioreactor.kernel import paths
    from pioreactor.kernel.config import get_config

    configured = get_config().get("storage", "database", fallback="")
    return Path(configured).expanduser() if configured else paths.pio_home() / "storage" / "pioreactor.sqlite"


def _logs_from_database(lines: int, follow: bool, experiment: str | None, unit: str | None) -> None:
    import sqlite3

    path = _database_path()
    if not path.exists():
        raise click.ClickException(f"no database at {path}: --from-db works on the leader, where mqtt_to_db_streaming runs")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10.0)
    filters, params = [], []
    if experiment:
        filters.append("experiment = ?")
        params.append(experiment)
    if unit:
        filters.append("pioreactor_unit = ?")
        params.append(unit)
    where = " AND ".join(filters) or "1"
    columns = "rowid, timestamp, pioreactor_unit, experiment, task, level, message"
    try:
        rows = conn.execute(
            f"SELECT * FROM (SELECT {columns} FROM logs WHERE {where} ORDER BY timestamp DESC, rowid DESC LIMIT ?) "
            "ORDER BY timestamp, rowid",
            [*params, lines],
        ).fetchall()
    except sqlite3.OperationalError as err:
        conn.close()
        raise click.ClickException(f"cannot read logs from {path}: {err}") from None
    last = max((row[0] for row in rows), default=0)
    for row in rows:
        click.echo(_format_log_row(row))
    try:
        while follow:
            time.sleep(0.5)
            new = conn.execute(
                f"SELECT {columns} FROM logs WHERE {where} AND rowid > ? ORDER BY rowid", [*params, last]
            ).fetchall()
            for row in new:
                click.echo(_format_log_row(row))
                last = max(last, row[0])
    except KeyboardInterrupt:
        pass
    finally:
        conn.close()


def _format_log_row(row: tuple[object, ...]) -> str:
    from pioreactor.kernel.logs import escape_controls

    _, timestamp, unit, experiment, task, level, message = row
    # one record, one line: a message from MQTT may hold newlines meant to forge others
    return escape_controls(f"{timestamp} {unit} {experiment} [{task}] {level} {message}")

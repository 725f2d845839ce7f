"""``pio run backup_database``: a consistent copy of the leader's database, taken while it is in use.

SQLite's online backup copies the database as it was when the copy started, in one read
transaction: with the WAL journal, ``mqtt_to_db_streaming`` keeps committing meanwhile (its new
rows are simply not in this copy). The copy goes to a temporary file, is checked
(``PRAGMA quick_check``), switched to a self-contained journal, and only then renamed over the
previous backup, so a failed backup never destroys the last good one.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import click
from pioreactor.sdk import get_config, local_persistent_storage
from pioreactor.sdk.database import canonical_timestamp, connect, database_path


def default_backup_path() -> Path:
    configured = get_config().get("storage", "database_backup", fallback="")
    if configured:
        return Path(configured).expanduser()
    source = database_path()
    return source.with_name(source.name + ".backup")


def backup(source: Path, output: Path) -> tuple[int, float]:
    """Copy ``source`` to ``output``; returns (pages copied, seconds)."""
    if not source.exists():
        raise click.ClickException(f"no database at {source} to back up")
    if not output.parent.is_dir():  # never create folders: a typo would scatter copies of the data
        raise click.ClickException(f"cannot write the backup to {output}: the folder {output.parent} does not exist")
    partial = output.with_name(output.name + ".partial")
    partial.unlink(missing_ok=True)
    started = time.monotonic()
    src = connect(source, busy_timeout_s=30.0)
    dst = sqlite3.connect(partial, isolation_level=None)
    try:
        pages = int(src.execute("PRAGMA page_count").fetchone()[0])
        src.backup(dst, pages=-1)  # one step: one snapshot, however busy the writer is
        dst.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
        check = dst.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise click.ClickException(f"the copy failed its check ({check}); the previous backup is kept")
    finally:
        dst.close()
        src.close()
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    partial.replace(output)
    return pages, time.monotonic() - started


@click.command()
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the copy [default: [storage] database_backup, else the database's path + .backup].",
)
@click.option(
    "--backup-to-workers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also copy the backup to this many active workers (the same place under their $PIO_HOME).",
)
def backup_database(output: Path | None, backup_to_workers: int) -> None:
    """Back up the leader's database while it is in use (a consistent snapshot)."""
    from datetime import UTC, datetime

    source = database_path()
    output = output or default_backup_path()
    if output.resolve() == source.resolve():
        raise click.UsageError("--output must not be the database itself")
    try:
        pages, seconds = backup(source, output)
    except sqlite3.Error as err:
        raise click.ClickException(f"backing up {source} failed: {err}") from None
    with local_persistent_storage("database_backups") as store:
        store["latest_backup_timestamp"] = canonical_timestamp(datetime.now(UTC))
        store["latest_backup_path"] = str(output)
    size = output.stat().st_size / 1e6
    click.echo(f"Backed up {source} ({pages} pages, {size:.1f} MB) to {output} in {seconds:.1f} s.")
    if backup_to_workers:
        copy_to_workers(output, backup_to_workers)


def copy_to_workers(backup_file: Path, count: int) -> None:
    """Copy ``backup_file`` (under ``$PIO_HOME``) to ``count`` active workers, in parallel, one
    line per worker; exit 1 if a copy failed or fewer workers than asked exist."""
    import base64

    from pioreactor.plugins_core.cluster.api import fan_out, list_workers
    from pioreactor.sdk import get_unit_name, pio_home

    home = Path(pio_home()).resolve()
    resolved = backup_file.resolve()
    if home not in resolved.parents:
        raise click.ClickException(f"--backup-to-workers needs the backup under $PIO_HOME ({home}); {resolved} is not")
    me = get_unit_name()
    workers = {w["pioreactor_unit"]: w["address"] for w in list_workers(active_only=True) if w["pioreactor_unit"] != me}
    chosen = dict(list(workers.items())[:count])
    if not chosen:
        raise click.ClickException("no active workers to copy the backup to; `pio workers list` shows them")
    body = {"path": resolved.relative_to(home).as_posix(), "content_base64": base64.b64encode(resolved.read_bytes()).decode()}
    results = fan_out(chosen, lambda unit: ("PUT", "/unit_api/system/files", body), task_timeout=120.0)
    failed = False
    for unit in sorted(results):
        if results[unit]["ok"]:
            click.echo(f"Copied the backup to {unit}.")
        else:
            failed = True
            click.echo(f"Could not copy the backup to {unit}: {results[unit]['error']['message']}", err=True)
    if len(chosen) < count:
        click.echo(f"Only {len(chosen)} active worker(s) to copy to, not {count}.", err=True)
    if failed or len(chosen) < count:
        raise SystemExit(1)

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
def backup_database(output: Path | None) -> None:
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

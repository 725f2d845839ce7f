"""The leader's database: where it is, how to open it, and the tables plugins declare in it.

The database is one SQLite file (``[storage] database``, default
``$PIO_HOME/storage/pioreactor.sqlite``) in WAL mode, so readers (exports, ``pio logs
--from-db``, a backup) never block the ``mqtt_to_db_streaming`` writer. Its tables come from
plugins (``pioreactor_register_database_tables``), each with migrations that
:func:`open_database` applies once each, in order.

    from pioreactor.sdk.database import open_database
    conn = open_database()
    conn.execute("SELECT count(*) FROM od_readings").fetchone()

Also here, for plugins that consume MQTT reliably: :class:`DurableSubscriber` (a persistent
session acknowledged by the consumer) and :class:`Delivery`, and helpers for sink parsers.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pioreactor.kernel import paths
from pioreactor.kernel.config import Config, get_config
from pioreactor.kernel.errors import PioreactorError
from pioreactor.kernel.registries.data import (
    DatabaseTableRegistry,
    DatasetSpec,
    ExportDatasetRegistry,
    MqttSinkRegistry,
    make_dataset,
)

if TYPE_CHECKING:
    from pioreactor.kernel.bus import Delivery, DurableSubscriber
    from pioreactor.kernel.registries.data import TableSpec

__all__ = [
    "Delivery",
    "DurableSubscriber",
    "Connection",
    "DatabaseError",
    "DatasetSpec",
    "apply_migrations",
    "canonical_timestamp",
    "connect",
    "database_path",
    "exportable_datasets_dir",
    "make_dataset",
    "open_database",
    "reading_row",
    "registered_datasets",
    "registered_sinks",
    "registered_tables",
    "split_sql",
    "topic_unit_and_experiment",
    "utc_now_timestamp",
]

MIGRATIONS_TABLE = "schema_migrations"


def __getattr__(name: str) -> Any:
    # the MQTT pieces import paho: only for the processes that use them
    if name in ("Delivery", "DurableSubscriber"):
        from pioreactor.kernel import bus

        return getattr(bus, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


class DatabaseError(PioreactorError):
    """The database cannot be opened or a table's migration failed."""


class Connection(sqlite3.Connection):
    """A connection that remembers which tables :func:`open_database` could not migrate."""

    failed_tables: frozenset[str] = frozenset()


def database_path(config: Config | None = None) -> Path:
    """``[storage] database``, else ``$PIO_HOME/storage/pioreactor.sqlite``."""
    config = config or get_config()
    configured = config.get("storage", "database", fallback="")
    return Path(configured).expanduser() if configured else paths.storage_dir() / "pioreactor.sqlite"


def connect(path: Path | None = None, *, readonly: bool = False, busy_timeout_s: float = 10.0) -> Connection:
    """A connection in autocommit mode (``BEGIN`` explicitly), WAL journal, foreign keys on.

    ``[storage] synchronous`` (``NORMAL`` by default) sets how hard each commit is pushed to the
    disk: ``NORMAL`` survives a crash of any process, ``FULL`` also a power cut (slower on SD cards).
    ``readonly`` opens the file read-only (an export cannot change it).
    """
    path = path or database_path()
    if readonly:
        if not path.exists():
            raise DatabaseError(f"no database at {path} yet: is mqtt_to_db_streaming running on the leader?")
        conn = sqlite3.connect(
            f"file:{path}?mode=ro",
            uri=True,
            timeout=busy_timeout_s,
            isolation_level=None,
            check_same_thread=False,
            factory=Connection,
        )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False, factory=Connection
        )
        from pioreactor.kernel.storage import _use_wal

        _use_wal(conn)
        mode = str(get_config().get("storage", "synchronous", fallback="NORMAL")).upper()
        if mode not in SYNCHRONOUS_MODES:
            raise DatabaseError(
                f"[storage] synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}, got {mode!r}"
            )
        conn.execute(f"PRAGMA synchronous = {mode}")
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def exportable_datasets_dir() -> Path:
    """``$PIO_HOME/exportable_datasets``: users' own export datasets, one YAML file each."""
    return paths.pio_home() / "exportable_datasets"


# -- what plugins registered ---------------------------------------------------------------------
def registered_tables() -> DatabaseTableRegistry:
    from pioreactor.kernel.plugins import get_plugin_host

    return get_plugin_host().registry(DatabaseTableRegistry)


def registered_sinks() -> MqttSinkRegistry:
    from pioreactor.kernel.plugins import get_plugin_host

    return get_plugin_host().registry(MqttSinkRegistry)


def registered_datasets() -> ExportDatasetRegistry:
    """Datasets from plugins only; the data plugin adds the YAML files of ``exportable_datasets/``."""
    from pioreactor.kernel.plugins import get_plugin_host

    return get_plugin_host().registry(ExportDatasetRegistry)


# -- migrations ----------------------------------------------------------------------------------
def split_sql(script: str) -> list[str]:
    """The statements of an SQL script (semicolons inside strings and triggers are respected)."""
    statements, current = [], ""
    for piece in script.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \t\r\n;"):
                statements.append(current.strip())
            current = ""
    if current.strip(" \t\r\n;"):
        statements.append(current.strip().rstrip(";"))
    return statements


def _applied_versions(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute(f"SELECT table_name, version FROM {MIGRATIONS_TABLE}").fetchall())


def apply_migrations(conn: sqlite3.Connection, tables: Iterable[TableSpec]) -> dict[str, str]:
    """Bring each table up to its latest migration; returns ``{table: error}`` for those that failed.

    Each migration runs in its own transaction with its bookkeeping row, so a failure leaves the
    table at its previous version; several processes opening the database at once apply each
    migration exactly once.
    """
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (table_name TEXT PRIMARY KEY, "
        "version INTEGER NOT NULL, plugin TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    failures: dict[str, str] = {}
    tables = list(tables)
    versions = _applied_versions(conn)
    for spec in tables:
        if versions.get(spec.name, 0) >= len(spec.migrations):
            continue  # the common case: nothing to do, no write lock taken
        conn.execute("BEGIN IMMEDIATE")
        try:
            done = _applied_versions(conn).get(spec.name, 0)  # another process may have just done it
            for version in range(done + 1, len(spec.migrations) + 1):
                for statement in split_sql(spec.migrations[version - 1]):
                    conn.execute(statement)
            if done < len(spec.migrations):
                conn.execute(
                    f"INSERT INTO {MIGRATIONS_TABLE} VALUES (?, ?, ?, ?) ON CONFLICT(table_name) DO UPDATE "
                    "SET version = excluded.version, plugin = excluded.plugin, applied_at = excluded.applied_at",
                    (spec.name, len(spec.migrations), spec.plugin, utc_now_timestamp()),
                )
            conn.execute("COMMIT")
        except sqlite3.Error as err:
            conn.execute("ROLLBACK")
            failures[spec.name] = (
                f"migration of table {spec.name!r} (plugin {spec.plugin!r}) failed: {type(err).__name__}: {err}"
            )
    return failures


def open_database(path: Path | None = None, *, report: bool = True) -> Connection:
    """A connection to the leader's database with every registered table up to date.

    A table whose migration fails is reported on stderr (``report``) and left out; the others work.
    """
    conn = connect(path)
    try:
        failures = apply_migrations(conn, registered_tables().entries.values())
    except sqlite3.Error as err:
        conn.close()
        raise DatabaseError(f"cannot prepare the database {path or database_path()}: {err}") from err
    if report:
        for message in failures.values():
            print(f"pio: {message}", file=sys.stderr)
    conn.failed_tables = frozenset(failures)
    return conn


# -- helpers for sink parsers --------------------------------------------------------------------
def topic_unit_and_experiment(topic: str) -> tuple[str, str]:
    """``("unit1", "exp1")`` from ``pioreactor/unit1/exp1/...``."""
    parts = topic.split("/", 3)
    if len(parts) < 3:
        raise ValueError(f"topic {topic!r} has no unit and experiment")
    return parts[1], parts[2]


def canonical_timestamp(value: datetime | str) -> str:
    """UTC, always with microseconds: ``2026-11-21T09:48:57.496000Z``; such strings sort in time order."""
    if isinstance(value, str):
        if len(value) == 27 and value[19] == "." and value[26] == "Z" and value[10] == "T":
            return value
        value = datetime.fromisoformat(value)
    if value.tzinfo is UTC:  # the common case (msgspec decodes ...Z so): the fast path
        return value.isoformat(timespec="microseconds")[:-6] + "Z"
    if value.tzinfo is None:
        raise ValueError(f"timestamp {value.isoformat()} has no time zone")
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def reading_row(topic: str, timestamp: datetime | str | None, **columns: Any) -> dict[str, Any]:
    """A time series row: ``experiment`` and ``pioreactor_unit`` from ``topic``, the canonical
    ``timestamp`` (None: the time of receipt), then ``columns``."""
    unit, experiment = topic_unit_and_experiment(topic)
    stamp = utc_now_timestamp() if timestamp is None else canonical_timestamp(timestamp)
    return {"experiment": experiment, "pioreactor_unit": unit, "timestamp": stamp, **columns}


def utc_now_timestamp() -> str:
    """Now on the kernel clock (UTC, canonical form); for payloads that carry no timestamp."""
    from pioreactor.kernel.clock import get_clock

    return get_clock().utc_timestamp()

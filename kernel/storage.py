"""Key-value stores in SQLite, safe for several processes at once.

* persistent storage survives reboots (``$PIO_HOME/storage/persistent.sqlite``);
* intermittent storage is wiped when the machine reboots (``intermittent.sqlite``, stamped
  with the kernel's boot id), for facts about the running system such as LED state.

Values are JSON, so numbers, booleans, lists and dicts come back with their types.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pioreactor.kernel import paths

BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


def connect(path: Path) -> sqlite3.Connection:
    """A connection tuned for many short writers in different processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    _use_wal(conn)
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL once. Several processes creating the same new file at the same
    moment can see "database is locked" here (SQLite does not apply the busy timeout to this
    switch), so retry briefly."""
    if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    for attempt in range(50):
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or attempt == 49:
                raise
            time.sleep(0.01 * (attempt + 1))


def current_boot_id() -> str:
    try:
        return BOOT_ID_FILE.read_text().strip()
    except OSError:  # not Linux: never cleared automatically
        return "unknown"


class KeyValueStore:
    """A namespace of keys in one SQLite file; behaves like a small dict."""

    def __init__(self, conn: sqlite3.Connection, namespace: str) -> None:
        self.conn = conn
        self.namespace = namespace

    def __getitem__(self, key: str) -> Any:
        row = self.conn.execute(
            "SELECT value FROM kv WHERE namespace = ? AND key = ?", (self.namespace, str(key))
        ).fetchone()
        if row is None:
            raise KeyError(key)
        return json.loads(row[0])

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __setitem__(self, key: str, value: Any) -> None:
        self.conn.execute(
            "INSERT INTO kv (namespace, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value",
            (self.namespace, str(key), json.dumps(value)),
        )

    def __delitem__(self, key: str) -> None:
        self.conn.execute("DELETE FROM kv WHERE namespace = ? AND key = ?", (self.namespace, str(key)))

    def pop(self, key: str, default: Any = None) -> Any:
        value = self.get(key, default)
        del self[key]
        return value

    def __contains__(self, key: object) -> bool:
        return (
            self.conn.execute(
                "SELECT 1 FROM kv WHERE namespace = ? AND key = ?", (self.namespace, str(key))
            ).fetchone()
            is not None
        )

    def keys(self) -> list[str]:
        rows = self.conn.execute("SELECT key FROM kv WHERE namespace = ? ORDER BY key", (self.namespace,))
        return [row[0] for row in rows]

    def items(self) -> list[tuple[str, Any]]:
        rows = self.conn.execute(
            "SELECT key, value FROM kv WHERE namespace = ? ORDER BY key", (self.namespace,)
        )
        return [(key, json.loads(value)) for key, value in rows]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def clear(self) -> None:
        self.conn.execute("DELETE FROM kv WHERE namespace = ?", (self.namespace,))

    @contextmanager
    def transaction(self) -> Iterator[KeyValueStore]:
        """Exclusive: other processes wait until the block ends; all of it or none is saved.

        Stores of the same file opened in this thread share the transaction, and a transaction
        inside another (e.g. a hardware driver that keeps its state here) joins the outer one."""
        if self.conn.in_transaction:
            yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")


SCHEMA = "CREATE TABLE IF NOT EXISTS kv (namespace TEXT, key TEXT, value TEXT, PRIMARY KEY (namespace, key))"


def _open(path: Path, *, intermittent: bool) -> sqlite3.Connection:
    conn = connect(path)
    conn.execute(SCHEMA)
    if intermittent and path not in _checked_this_boot:
        _forget_if_rebooted(conn)
        _checked_this_boot.add(path)
    return conn


_checked_this_boot: set[Path] = set()  # a process checks the boot id of a file once


def _forget_if_rebooted(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS boot (boot_id TEXT)")
    boot_id = current_boot_id()
    row = conn.execute("SELECT boot_id FROM boot").fetchone()
    if row is not None and row[0] == boot_id:
        return  # the common case: no write, no lock
    conn.execute("BEGIN IMMEDIATE")
    row = conn.execute("SELECT boot_id FROM boot").fetchone()
    if row is None or row[0] != boot_id:  # first use since a reboot: forget everything
        conn.execute("DELETE FROM kv")
        conn.execute("DELETE FROM boot")
        conn.execute("INSERT INTO boot VALUES (?)", (boot_id,))
    conn.execute("COMMIT")


def persistent_path() -> Path:
    return paths.storage_file("persistent.sqlite")


def intermittent_path() -> Path:
    return paths.storage_file("intermittent.sqlite")


_per_thread = threading.local()


def forget_connections() -> None:
    """Close this thread's cached connections (tests; a reboot check runs again on next use)."""
    for conn in _per_thread.__dict__.pop("connections", {}).values():
        conn.close()
    _per_thread.__dict__.pop("open_stores", None)
    _checked_this_boot.clear()


def close_idle_connections_of_this_thread() -> None:
    """Close this thread's cached connections that no open store uses: a thread done with
    storage gives back their caches (a few hundred kB each); a later use opens them again.
    A store kept open (a job holding one for its life, used from other threads) keeps its own."""
    cache: dict[Path, sqlite3.Connection] = _per_thread.__dict__.get("connections", {})
    open_stores: Counter[Path] = _per_thread.__dict__.get("open_stores", Counter())
    for path in [path for path in cache if not open_stores[path]]:
        cache.pop(path).close()


def _connection(path: Path, *, intermittent: bool) -> sqlite3.Connection:
    """This thread's connection to ``path``: opening one costs about a millisecond, far more
    than a read or a write, and jobs touch storage on every reading."""
    cache: dict[Path, sqlite3.Connection] = _per_thread.__dict__.setdefault("connections", {})
    conn = cache.get(path)
    if conn is None:
        conn = cache[path] = _open(path, intermittent=intermittent)
    return conn


@contextmanager
def _store(path: Path, namespace: str, *, intermittent: bool) -> Iterator[KeyValueStore]:
    conn = _connection(path, intermittent=intermittent)
    open_stores: Counter[Path] = _per_thread.__dict__.setdefault("open_stores", Counter())
    open_stores[path] += 1
    try:
        yield KeyValueStore(conn, namespace)
    finally:
        open_stores[path] -= 1


@contextmanager
def local_persistent_storage(namespace: str) -> Iterator[KeyValueStore]:
    with _store(persistent_path(), namespace, intermittent=False) as store:
        yield store


@contextmanager
def local_intermittent_storage(namespace: str) -> Iterator[KeyValueStore]:
    with _store(intermittent_path(), namespace, intermittent=True) as store:
        yield store

"""From MQTT deliveries to committed rows: routing, parsing, batching, dead letters, deduplication.

One :meth:`DatabaseWriter.write` call is one transaction: every delivery of the batch is either
stored (as rows, as a dead letter, or as nothing because its parser said so or it repeats a
stored message) or, if the transaction fails (a locked or full disk), nothing is, and the caller
tries the same batch again. Only after ``write`` returns may the deliveries be acknowledged.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pioreactor.sdk.database import Delivery, utc_now_timestamp

DEAD_LETTERS = "mqtt_dead_letters"
RECEIPTS = "mqtt_receipts"
COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: receipts of messages without a timestamp are kept this long (a redelivery comes much sooner)
RECEIPT_DAYS = 7


@dataclass
class Sink:
    """A registered sink with its parser loaded."""

    name: str
    table: str
    topics: tuple[str, ...]
    parse: Callable[[str, bytes], Any]
    timestamped: bool = True
    _filters: list[list[str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._filters = [topic.split("/") for topic in self.topics]

    def matches(self, topic_levels: list[str]) -> bool:
        return any(_matches(levels, topic_levels) for levels in self._filters)


def _matches(filter_levels: list[str], topic_levels: list[str]) -> bool:
    for index, level in enumerate(filter_levels):
        if level == "#":
            return True
        if index >= len(topic_levels) or (level != "+" and level != topic_levels[index]):
            return False
    return len(filter_levels) == len(topic_levels)


class Router:
    """Which sinks want a topic; the answer is cached (a cluster has a bounded set of topics)."""

    def __init__(self, sinks: Iterable[Sink], cache_size: int = 50_000) -> None:
        self.sinks = list(sinks)
        self._cache: dict[str, tuple[Sink, ...]] = {}
        self._cache_size = cache_size

    def __call__(self, topic: str) -> tuple[Sink, ...]:
        found = self._cache.get(topic)
        if found is None:
            levels = topic.split("/")
            found = tuple(sink for sink in self.sinks if sink.matches(levels))
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[topic] = found
        return found


class Origin(NamedTuple):
    topic: str
    payload: bytes
    sink: str


@dataclass
class WriteResult:
    rows: int = 0  # rows inserted (a duplicate of a stored row is not)
    dead_letters: int = 0
    skipped: int = 0  # retained copies, empty payloads, repeated messages without timestamps
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (sink, topic, error)


class DatabaseWriter:
    """Writes batches of deliveries into the tables of their sinks, in one transaction each."""

    def __init__(self, conn: sqlite3.Connection, sinks: Iterable[Sink]) -> None:
        self.conn = conn
        self.route = Router(sinks)
        self._statements: dict[tuple[str, tuple[str, ...]], str] = {}

    def write(self, deliveries: list[Delivery]) -> WriteResult:
        result = WriteResult()
        # (table, columns) -> rows, and where each row came from (for a dead letter)
        groups: dict[tuple[str, tuple[str, ...]], tuple[list[tuple[Any, ...]], list[Origin]]] = {}
        dead: list[tuple[str, str, bytes, str, str]] = []
        receipts: list[bytes] = []
        now = utc_now_timestamp()
        for delivery in deliveries:
            if delivery.retain or not delivery.payload:
                # a retained copy is a value from before we subscribed (or stored already);
                # an empty payload clears a retained setting
                result.skipped += 1
                continue
            sinks = self.route(delivery.topic)
            if not sinks:
                result.skipped += 1
                continue
            fingerprint = None
            for sink in sinks:
                if not sink.timestamped:
                    fingerprint = fingerprint or _fingerprint(delivery)
                    if delivery.dup and (fingerprint in receipts or self._already_received(fingerprint)):
                        result.skipped += 1
                        continue
                    receipts.append(fingerprint)
                try:
                    rows = _rows(sink.parse(delivery.topic, delivery.payload))
                except Exception as err:
                    origin = Origin(delivery.topic, delivery.payload, sink.name)
                    if not (delivery.dup and self._dead_already(origin)):
                        self._dead(origin, err, now, dead, result)
                    continue
                for row in rows:
                    values, origins = groups.setdefault((sink.table, tuple(row)), ([], []))
                    values.append(tuple(row.values()))
                    origins.append(Origin(delivery.topic, delivery.payload, sink.name))
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            changes = self.conn.total_changes
            for (table, columns), (values, origins) in groups.items():
                self._insert(table, columns, values, origins, now, dead, result)
            result.rows = self.conn.total_changes - changes
            if dead:
                self.conn.executemany(
                    f"INSERT INTO {DEAD_LETTERS} (received_at, topic, payload, sink, error) VALUES (?, ?, ?, ?, ?)",
                    dead,
                )
            if receipts:
                self.conn.executemany(
                    f"INSERT OR REPLACE INTO {RECEIPTS} (fingerprint, received_at) VALUES (?, ?)",
                    [(fingerprint, now) for fingerprint in receipts],
                )
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        result.dead_letters = len(dead)
        return result

    def _statement(self, table: str, columns: tuple[str, ...]) -> str:
        key = (table, columns)
        sql = self._statements.get(key)
        if sql is None:
            bad = [c for c in columns if not isinstance(c, str) or not COLUMN.match(c)]
            if bad:
                raise ValueError(f"invalid column names {bad}")
            names = ", ".join(f'"{c}"' for c in columns)
            sql = f'INSERT OR IGNORE INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
            self._statements[key] = sql
        return sql

    def _insert(
        self,
        table: str,
        columns: tuple[str, ...],
        values: list[tuple[Any, ...]],
        origins: list[Origin],
        now: str,
        dead: list[tuple[str, str, bytes, str, str]],
        result: WriteResult,
    ) -> int:
        """executemany; if a row is refused (a constraint, an unknown column, a value SQLite cannot
        store), store the others one by one and turn each refused one into a dead letter."""
        try:
            sql = self._statement(table, columns)
            self.conn.execute("SAVEPOINT rows")
            self.conn.executemany(sql, values)
            self.conn.execute("RELEASE rows")
            return len(values)
        except sqlite3.OperationalError as err:
            if _is_transient(err):
                raise  # locked, disk full, I/O: the whole batch is tried again
        except (sqlite3.Error, ValueError):
            pass
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK TO rows")
            self.conn.execute("RELEASE rows")
        stored = 0
        for row, origin in zip(values, origins, strict=True):
            try:
                self.conn.execute(self._statement(table, columns), row)
                stored += 1
            except sqlite3.OperationalError as err:
                if _is_transient(err):
                    raise
                self._dead(origin, err, now, dead, result, table=table)
            except (sqlite3.Error, ValueError) as err:
                self._dead(origin, err, now, dead, result, table=table)
        return stored

    @staticmethod
    def _dead(
        origin: Origin,
        err: Exception,
        now: str,
        dead: list[tuple[str, str, bytes, str, str]],
        result: WriteResult,
        table: str | None = None,
    ) -> None:
        error = f"{type(err).__name__}: {err}"
        if table is not None:
            error = f"table {table} refused the row: {error}"
        dead.append((now, origin.topic, origin.payload, origin.sink, error))
        result.failures.append((origin.sink, origin.topic, error))

    def _dead_already(self, origin: Origin) -> bool:
        """A redelivered message that failed before: it is in the dead letters already."""
        row = self.conn.execute(
            f"SELECT 1 FROM {DEAD_LETTERS} WHERE topic = ? AND payload = ? AND sink = ? LIMIT 1", origin
        ).fetchone()
        return row is not None

    def _already_received(self, fingerprint: bytes) -> bool:
        row = self.conn.execute(f"SELECT 1 FROM {RECEIPTS} WHERE fingerprint = ?", (fingerprint,)).fetchone()
        return row is not None

    def prune_receipts(self, days: float = RECEIPT_DAYS) -> int:
        cutoff = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - days * 86400))
        cursor = self.conn.execute(f"DELETE FROM {RECEIPTS} WHERE received_at < ?", (cutoff,))
        return cursor.rowcount


def _fingerprint(delivery: Delivery) -> bytes:
    return hashlib.blake2b(delivery.topic.encode() + b"\0" + delivery.payload, digest_size=16).digest()


def _rows(parsed: Any) -> list[Mapping[str, Any]]:
    if parsed is None:
        return []
    if isinstance(parsed, Mapping):
        return [parsed]
    if isinstance(parsed, list | tuple) and all(isinstance(row, Mapping) for row in parsed):
        return list(parsed)
    raise TypeError(f"the parser returned {type(parsed).__name__}: expected a dict, a list of dicts or None")


def _is_transient(err: sqlite3.OperationalError) -> bool:
    text = str(err).lower()
    return any(
        word in text for word in ("locked", "busy", "disk", "i/o", "full", "readonly", "unable to open")
    )

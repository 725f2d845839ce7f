"""``mqtt_to_db_streaming``: the leader's job that stores what the cluster publishes.

Two threads besides the job's own: the MQTT network thread of a :class:`DurableSubscriber`
(a persistent QoS 1 session with a stable client id, acknowledged by us) appends each delivery
to a queue; the writer thread takes everything queued (up to ``max_batch_size``), writes it in
one transaction, commits, and only then acknowledges it. If the process dies, the broker still
holds every unacknowledged message and sends it again to the next streamer; stored rows have
unique keys (``INSERT OR IGNORE``), so a message delivered twice is stored once.

If a commit fails (database locked, disk full or slow), nothing is acknowledged and the same
batch is tried again with a growing pause; meanwhile the broker stops sending once its window
of unacknowledged messages is full (``max_inflight_messages``) and queues the rest.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from typing import Any

from pioreactor.plugins_core.data.writer import DatabaseWriter, Sink, WriteResult
from pioreactor.sdk import UNIVERSAL_EXPERIMENT, BackgroundJob, RepeatedTimer, get_config
from pioreactor.sdk.database import (
    Delivery,
    DurableSubscriber,
    database_path,
    open_database,
    registered_sinks,
)

SECTION = "mqtt_to_db_streaming"
#: a parse failure of a sink is logged at most this often (each one is kept as a dead letter)
LOG_EVERY_SECONDS = 10.0
#: fingerprints of messages without timestamps are pruned this often (they are kept for days)
PRUNE_EVERY_SECONDS = 6 * 3600.0


class MqttToDBStreamer(BackgroundJob):
    """Subscribe to every topic that plugins route to the database, and store each message once.

    Runs on the leader, for the whole cluster (its experiment is $experiment).
    """

    job_name = "mqtt_to_db_streaming"
    long_running = True  # `pio kill --all-jobs` leaves the database recording
    published_settings = {
        "inserts_in_last_60s": {"datatype": "integer", "settable": False},
    }

    def __init__(self, unit: str, experiment: str) -> None:
        super().__init__(unit, UNIVERSAL_EXPERIMENT)
        config = get_config()
        self.max_batch = max(1, config.getint(SECTION, "max_batch_size", fallback=20_000))
        self.path = database_path()
        self.conn = open_database(self.path, report=False)
        self.sinks = self._load_sinks(set(self.conn.failed_tables))
        self.writer = DatabaseWriter(self.conn, self.sinks)
        self.writer.prune_receipts()
        self.inserts_in_last_60s = 0
        self._inserted = 0  # since the last report
        self._queue: deque[Delivery] = deque()
        self._wakeup = threading.Condition()
        self._stopping = threading.Event()
        self._running = threading.Event()  # cleared while sleeping
        self._last_logged: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._dropped_by_broker: int | None = None
        self.committed_batches = 0
        client_id = config.get(SECTION, "client_id", fallback="") or f"pioreactor-mqtt-to-db-{unit}"
        topics = sorted({topic for sink in self.sinks for topic in sink.topics})
        self.subscriber = DurableSubscriber(client_id, topics, self._enqueue)
        self._writer_thread = threading.Thread(target=self._write_loop, name="db-writer", daemon=True)
        self._writer_thread.start()
        self._reporter = RepeatedTimer(60.0, self._report, name="db-inserts-report").start()
        self.bus.subscribe("$SYS/broker/publish/messages/dropped", self._on_broker_drops, qos=0)
        self.subscriber.connect()
        self.logger.debug(
            "Streaming %d topics into %s: %s.",
            len(topics),
            self.path,
            ", ".join(f"{sink.name} -> {sink.table}" for sink in self.sinks),
        )

    def _load_sinks(self, failed_tables: set[str]) -> list[Sink]:
        sinks = []
        for spec in registered_sinks().entries.values():
            if spec.table in failed_tables:
                self.logger.error(
                    "Not streaming %s (plugin %s): its table %s could not be created or migrated.",
                    spec.name,
                    spec.plugin,
                    spec.table,
                )
                continue
            try:
                parser = spec.load_parser()
            except Exception as err:
                self.logger.error(
                    "Not streaming %s: plugin %s's parser %s cannot be loaded: %s: %s",
                    spec.name,
                    spec.plugin,
                    spec.parser,
                    type(err).__name__,
                    err,
                )
                continue
            sinks.append(Sink(spec.name, spec.table, spec.topics, parser, spec.timestamped))
        return sinks

    # -- network thread ----------------------------------------------------------------------
    def _enqueue(self, delivery: Delivery) -> None:
        with self._wakeup:
            self._queue.append(delivery)
            if len(self._queue) == 1:
                self._wakeup.notify()

    # -- writer thread -----------------------------------------------------------------------
    def _take(self, timeout: float) -> list[Delivery]:
        with self._wakeup:
            if not self._queue:
                self._wakeup.wait(timeout)
            queue, batch = self._queue, []
            for _ in range(min(len(queue), self.max_batch)):
                batch.append(queue.popleft())
        return batch

    def _write_loop(self) -> None:
        try:
            self._write_until_stopped()
        except BaseException as err:  # a bug: stop, so that whatever supervises the job restarts it
            self.logger.exception("The database writer failed")
            self.stop_with_error(f"the database writer stopped: {type(err).__name__}: {err}")

    def _write_until_stopped(self) -> None:
        self._running.wait()
        pause = 0.0
        batch: list[Delivery] = []
        pruned = time.monotonic()
        while True:
            if not batch:
                if self._stopping.is_set():
                    return
                if time.monotonic() - pruned > PRUNE_EVERY_SECONDS:
                    pruned = time.monotonic()
                    self._prune()
                if not self._running.is_set():
                    self._running.wait(0.5)
                    continue
                batch = self._take(0.5)
                if not batch:
                    continue
            try:
                result = self.writer.write(batch)
            except sqlite3.Error as err:
                if self._stopping.is_set():
                    return  # unacknowledged: the broker sends these again to the next streamer
                pause = min(5.0, max(0.1, pause * 2))
                self._log_limited(
                    "commit",
                    "Cannot store %d messages in %s (%s: %s); trying again in %.1f s. Nothing is lost: "
                    "the broker keeps them until they are stored.",
                    len(batch),
                    self.path,
                    type(err).__name__,
                    err,
                    pause,
                )
                self._stopping.wait(pause)
                continue
            pause = 0.0
            if result.failures:  # before the ack: a process killed here gets it redelivered, so it is logged
                self._report_failures(result)
            self.subscriber.ack(batch)
            self.committed_batches += 1
            self._inserted += result.rows
            batch = []

    def _prune(self) -> None:
        try:
            self.writer.prune_receipts()
        except sqlite3.Error as err:
            self.logger.debug("Could not prune old receipts: %s", err)

    def _report_failures(self, result: WriteResult) -> None:
        for sink, topic, error in result.failures:
            self._log_limited(
                sink,
                "Could not store a message on %s (sink %s): %s. It is kept in table mqtt_dead_letters.",
                topic,
                sink,
                error,
            )

    def _log_limited(self, key: str, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last_logged.get(key, -1e9) < LOG_EVERY_SECONDS:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return
        self._last_logged[key] = now
        suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            message += f" ({suppressed} more like this since the last report)"
        self.logger.error(message, *args)

    def _report(self) -> None:
        inserted, self._inserted = self._inserted, 0
        self.inserts_in_last_60s = inserted

    def _on_broker_drops(self, message: Any) -> None:
        try:
            dropped = int(message.payload)
        except ValueError:
            return
        previous, self._dropped_by_broker = self._dropped_by_broker, dropped
        if previous is not None and dropped > previous:
            self.logger.error(
                "The MQTT broker dropped %d messages (its queues were full): they never reached the "
                "database. Raise max_queued_messages (and check max_inflight_messages) in mosquitto.conf.",
                dropped - previous,
            )

    # -- lifecycle ---------------------------------------------------------------------------
    def on_ready(self) -> None:
        self._running.set()

    def on_sleeping(self) -> None:
        self._running.clear()

    def on_disconnected(self) -> None:
        self._reporter.cancel()
        self._stopping.set()
        self._running.set()
        with self._wakeup:
            self._wakeup.notify_all()
        # the batch being written is committed and acknowledged; what is still queued is not
        # acknowledged, so the broker sends it again to the next streamer
        self._writer_thread.join(timeout=30)
        self.subscriber.close()
        self.conn.close()

    def pending(self) -> int:
        return len(self._queue)

"""The database side of streaming, in-process: migrations, registries, and what one batch stores."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pioreactor.kernel.errors import RegistrationError
from pioreactor.kernel.registries.data import (
    DatabaseTableRegistry,
    ExportDatasetRegistry,
    MqttSinkRegistry,
    TableSpec,
)
from pioreactor.plugins_core.data.writer import DatabaseWriter, Sink
from pioreactor.sdk.database import Delivery, apply_migrations, canonical_timestamp, open_database, split_sql
from pioreactor.sdk.testing import reset_process_state

OD = b'{"timestamp":"2026-11-21T09:49:24.628Z","angle":"90","od":0.119,"channel":"2","ir_led_intensity":85.0}'


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PIO_HOME", str(tmp_path))
    monkeypatch.setenv("PIO_UNIT", "leader")
    monkeypatch.delenv("EXPERIMENT", raising=False)
    reset_process_state()
    yield tmp_path
    reset_process_state()


@pytest.fixture
def writer(home: Path) -> Iterator[DatabaseWriter]:
    from pioreactor.sdk.database import registered_sinks

    conn = open_database()
    sinks = [
        Sink(s.name, s.table, s.topics, s.load_parser(), s.timestamped)
        for s in registered_sinks().entries.values()
    ]
    yield DatabaseWriter(conn, sinks)
    conn.close()


def delivery(
    topic: str, payload: bytes, *, dup: bool = False, retain: bool = False, mid: int = 1
) -> Delivery:
    return Delivery(topic, payload, 1, retain, dup, mid, 1, time.monotonic())


def test_migrations_run_once_in_order_and_a_broken_table_is_isolated(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    v1 = "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1)"
    tables = [TableSpec("t", "p", (v1,)), TableSpec("broken", "q", ("CREATE TABLE broken (; nonsense",))]
    failures = apply_migrations(conn, tables)
    assert list(failures) == ["broken"] and "plugin 'q'" in failures["broken"]
    assert apply_migrations(conn, tables[:1]) == {}  # nothing again: the INSERT ran once
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1
    # a new migration appended later is applied once, on top
    assert apply_migrations(conn, [TableSpec("t", "p", (v1, "ALTER TABLE t ADD COLUMN b TEXT"))]) == {}
    assert [r[1] for r in conn.execute("PRAGMA table_info(t)")] == ["a", "b"]
    assert conn.execute("SELECT version FROM schema_migrations WHERE table_name = 't'").fetchone()[0] == 2
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'broken'").fetchone() is None
    assert split_sql("CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT ';'; END; SELECT 1") == [
        "CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT ';'; END;",
        "SELECT 1;",
    ]


def test_registries_name_both_plugins_and_refuse_bad_entries() -> None:
    tables = DatabaseTableRegistry()
    tables.scoped("a").add("od_readings", migrations=["CREATE TABLE od_readings (x)"])
    with pytest.raises(RegistrationError, match="both plugin 'a' and plugin 'b'"):
        tables.scoped("b").add("od_readings", migrations="CREATE TABLE od_readings (x)")
    sinks = MqttSinkRegistry().scoped("a")
    with pytest.raises(RegistrationError, match="invalid topic filters"):
        sinks.add("x", topics="pioreactor/#/od", parser="m:f")
    with pytest.raises(RegistrationError, match="expected 'package.module:function'"):
        sinks.add("x", topics="pioreactor/+/+/x", parser="not a target")
    datasets = ExportDatasetRegistry().scoped("a")
    with pytest.raises(RegistrationError, match="exactly one of table or query"):
        datasets.add("x", table="t", query="SELECT 1")
    with pytest.raises(RegistrationError, match="unknown fields"):
        datasets.add("x", table="t", colour="blue")


def test_core_plugins_register_their_tables_sinks_and_datasets(home: Path) -> None:
    from pioreactor.sdk.database import registered_datasets, registered_sinks, registered_tables

    tables = registered_tables().entries
    for table, plugin in [
        ("od_readings", "od_reading"),
        ("growth_rates", "growth_rate"),
        ("od_readings_filtered", "growth_rate"),
        ("temperature_readings", "temperature"),
        ("led_change_events", "leds"),
        ("stirring_rates", "stirring"),
        ("logs", "data"),
        ("experiments", "data"),
    ]:
        assert tables[table].plugin == plugin
    sinks = registered_sinks().entries
    assert "pioreactor/+/+/od_reading/od2" in sinks["od_readings"].topics
    assert {s.table for s in sinks.values()} <= set(tables)
    assert {"od_readings", "growth_rates", "logs", "experiments"} <= set(registered_datasets().entries)


def test_a_batch_stores_each_reading_once_and_keeps_what_it_cannot_parse(writer: DatabaseWriter) -> None:
    od = "pioreactor/u1/e1/od_reading/od2"
    result = writer.write(
        [
            delivery(od, OD),
            delivery(od, OD, dup=True),  # the broker sent it again
            delivery(od, b"garbage"),
            delivery(od, OD, retain=True),  # a retained copy: from before we subscribed
            delivery(od, b""),  # a cleared setting
            delivery("pioreactor/u1/e1/od_reading/od1", OD.replace(b"24.628", b"25.000")),
        ]
    )
    assert result.rows == 2 and result.dead_letters == 1 and result.skipped == 2
    assert writer.write([delivery(od, OD)]).rows == 0  # stored already
    conn = writer.conn
    assert conn.execute(
        "SELECT experiment, pioreactor_unit, timestamp, od_reading, angle, channel FROM od_readings"
    ).fetchall() == [
        ("e1", "u1", "2026-11-21T09:49:24.628000Z", 0.119, 90, 2),
        ("e1", "u1", "2026-11-21T09:49:25.000000Z", 0.119, 90, 2),
    ]
    topic, payload, sink, error = conn.execute(
        "SELECT topic, payload, sink, error FROM mqtt_dead_letters"
    ).fetchone()
    assert (topic, payload, sink) == (od, b"garbage", "od_readings") and "malformed" in error


def test_messages_without_timestamps_are_recognised_when_delivered_again(writer: DatabaseWriter) -> None:
    topic = "pioreactor/u1/e1/temperature_automation/latest_event"
    event = b'{"event_name":"UpdatedHeaterDC","message":"to 20%","data":{"dc":20}}'
    writer.write([delivery(topic, event, mid=1)])
    writer.write([delivery(topic, event, mid=1, dup=True)])  # the ack was lost: a redelivery
    writer.write([delivery(topic, event, mid=2)])  # the same event again, a new message
    rows = writer.conn.execute(
        "SELECT event_name, message, data FROM temperature_automation_events"
    ).fetchall()
    assert rows == [("UpdatedHeaterDC", "to 20%", '{"dc": 20}')] * 2


def test_a_row_the_table_refuses_becomes_a_dead_letter_and_the_rest_is_stored(writer: DatabaseWriter) -> None:
    rpm = "pioreactor/u1/e1/stirring/measured_rpm"
    writer.route.sinks.append(
        Sink("bad", "stirring_rates", ("pioreactor/+/+/bad",), lambda t, p: {"nonsense": 1})
    )
    writer.route._cache.clear()
    result = writer.write(
        [
            delivery(rpm, b'{"measured_rpm": 500.0, "timestamp": "2026-11-21T09:00:00Z"}'),
            delivery("pioreactor/u1/e1/bad", b"x"),
            delivery(rpm, b'{"measured_rpm": 510.0, "timestamp": "2026-11-21T09:00:05Z"}'),
        ]
    )
    assert result.rows == 2 and result.dead_letters == 1
    assert (
        "no column named nonsense" in writer.conn.execute("SELECT error FROM mqtt_dead_letters").fetchone()[0]
    )


def test_a_locked_database_stores_nothing_so_the_batch_can_be_retried(
    writer: DatabaseWriter, home: Path
) -> None:
    od = "pioreactor/u1/e1/od_reading/od2"
    writer.conn.execute("PRAGMA busy_timeout = 50")
    other = sqlite3.connect(home / "storage" / "pioreactor.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        writer.write([delivery(od, OD)])
    other.execute("ROLLBACK")
    assert writer.write([delivery(od, OD)]).rows == 1


def test_timestamps_are_stored_in_one_sortable_form() -> None:
    assert canonical_timestamp("2026-11-21T09:49:24Z") == "2026-11-21T09:49:24.000000Z"
    assert canonical_timestamp("2026-11-21T10:49:24.5+01:00") == "2026-11-21T09:49:24.500000Z"
    with pytest.raises(ValueError, match="no time zone"):
        canonical_timestamp("2026-11-21T09:49:24")

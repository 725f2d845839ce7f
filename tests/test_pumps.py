"""Pump actions on the simulated vial: calibration, dosing events first, order, manual doses, stopping.

The simulator's pumps move ``[simulation] pump_ml_per_second`` at 100 % duty cycle; the tests
give each pump an active calibration that says the same, as `pio calibrations run` would.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pioreactor.sdk.testing import MqttProbe, PioHome, start_broker

FLOW = 1.0  # ml/s, the simulator's default


class _AnyTimestamp(str):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.endswith("Z") and "T" in other

    __hash__ = str.__hash__


ANY_TIMESTAMP = _AnyTimestamp()


def calibrate(*pumps: str, flow: float = FLOW) -> None:
    """Active calibrations matching the simulator's pumps (``flow`` ml/s at 100 %)."""
    from pioreactor.plugins_core.calibrations.api import (
        PolyFit,
        PumpCalibration,
        RecordedData,
        save_calibration,
        set_active_calibration,
    )

    for pump in pumps or ("media", "alt_media", "waste"):
        seconds = [0.5, 1.0, 2.0, 5.0, 10.0]
        calibration = PumpCalibration(
            calibration_name=f"simulated-{pump}",
            calibrated_on_pioreactor_unit="test",
            created_at=datetime.now(UTC),
            curve_data_=PolyFit([flow, 0.0]),
            recorded_data=RecordedData(x=seconds, y=[flow * s for s in seconds]),
            dc=100.0,
        )
        save_calibration(f"{pump}_pump", calibration)
        set_active_calibration(f"{pump}_pump", calibration.calibration_name)


def truth() -> dict[str, Any]:
    from pioreactor.kernel.plugins import load_config_with_plugins
    from pioreactor.plugins_core.simulator.world import ground_truth

    load_config_with_plugins()
    return ground_truth()


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll the simulated vial (not MQTT) until ``condition`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not hold in time")
        time.sleep(0.01)


def events(probe: MqttProbe, home: PioHome, since: int = 0) -> list[dict[str, Any]]:
    return [json.loads(p) for p in probe.payloads(home.topic("dosing_events"), since=since)]


def test_a_pump_without_calibration_refuses_and_says_how_to_calibrate(pio, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    mark = mqtt_probe.mark()
    result = pio("run", "add_media", "--ml", "1")
    assert result.returncode == 1
    assert "pio calibrations run --device media_pump" in result.stderr
    calibrate("media")  # not waste: so none of these doses runs
    result = pio("run", "pumps", "--media", "1", "--waste", "1")
    assert result.returncode == 1 and "pio calibrations run --device waste_pump" in result.stderr
    assert truth()["media_added_ml"] == 0.0 and events(mqtt_probe, pio_home, mark) == []
    # a duration needs no calibration (priming the tubes), and says that the volume is unknown
    result = pio("run", "remove_waste", "--duration", "0.5")
    assert result.returncode == 0, result.stderr
    assert "uncalibrated" in result.stderr
    assert events(mqtt_probe, pio_home, mark) == [
        {"volume_change": 0.0, "event": "remove_waste", "source_of_event": "CLI", "timestamp": ANY_TIMESTAMP}
    ]
    # and an option mistake is a one-line error
    result = pio("run", "add_media", "--ml", "1", "--duration", "1")
    assert result.returncode == 1 and "give one of --ml, --duration or --continuously" in result.stderr


def test_the_dosing_event_is_published_before_the_pump_runs(pio, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    calibrate("media")
    result_box: dict[str, Any] = {}
    import threading

    thread = threading.Thread(target=lambda: result_box.update(result=pio("run", "add_media", "--ml", "1.5")))
    thread.start()
    seen = mqtt_probe.wait_for(pio_home.topic("dosing_events"), timeout=15)
    at_event = truth()["media_added_ml"]
    thread.join(20)
    assert result_box["result"].returncode == 0, result_box["result"].stderr
    event = json.loads(seen.payload)
    assert (
        event["event"] == "add_media" and event["volume_change"] == 1.5 and event["source_of_event"] == "CLI"
    )
    assert event["timestamp"].endswith("Z") and not seen.retain
    assert at_event < 0.75  # the event went out before (most of) the pumping
    assert abs(truth()["media_added_ml"] - 1.5) < 0.05
    assert truth()["pumps"]["media"] == 0.0


def test_pumps_run_in_the_order_given(pio, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    calibrate()
    mark = mqtt_probe.mark()
    result = pio(
        "run", "--config-override", "simulation", "clock_speed", "10",
        "pumps", "--waste", "0.5", "--media", "1", "--alt-media", "0.25", "--waste=2", "--media", "0.5",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    seen = [(e["event"], e["volume_change"]) for e in events(mqtt_probe, pio_home, mark)]
    assert seen == [
        ("remove_waste", 0.5),
        ("add_media", 1.0),
        ("add_alt_media", 0.25),
        ("remove_waste", 2.0),
        ("add_media", 0.5),
    ]
    vial = truth()
    assert abs(vial["media_added_ml"] - 1.5) < 0.05 and abs(vial["alt_media_added_ml"] - 0.25) < 0.05


def test_a_manual_dose_is_recorded_without_pumping(pio, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    mark = mqtt_probe.mark()
    result = pio("run", "add_alt_media", "--ml", "2", "--manually")  # no calibration needed
    assert result.returncode == 0, result.stderr
    (event,) = events(mqtt_probe, pio_home, mark)
    assert event["event"] == "add_alt_media" and event["volume_change"] == 2.0
    assert event["source_of_event"] == "manually"
    assert truth()["alt_media_added_ml"] == 0.0


def test_a_pump_is_off_after_sigterm_mid_dose(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    calibrate("media")
    job = run_job("add_media", "--ml", "19")  # 19 s of pumping at real speed
    job.wait_for_state(mqtt_probe, "ready", timeout=15)
    mqtt_probe.wait_for(pio_home.topic("dosing_events"), timeout=10)
    wait_until(lambda: truth()["pumps"]["media"] == 100.0)
    job.signal(signal.SIGTERM)
    assert job.wait(10) == 0
    vial = truth()
    assert vial["pumps"]["media"] == 0.0
    assert 0.0 < vial["media_added_ml"] < 10.0
    assert "stopped early" in job.output()


def test_a_pump_stops_when_its_job_is_set_to_disconnected(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    job = run_job("remove_waste", "--continuously")  # running until stopped needs no calibration
    job.wait_for_state(mqtt_probe, "ready", timeout=15)
    wait_until(lambda: truth()["pumps"]["waste"] == 100.0)
    mqtt_probe.publish(pio_home.topic("remove_waste", "$state", "set"), "disconnected")
    assert job.wait(10) == 0
    job.wait_for_state(mqtt_probe, "disconnected")
    assert truth()["pumps"]["waste"] == 0.0


def test_pio_kill_stops_a_pump(run_job, pio, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    job = run_job("circulate_media", "--continuously")
    job.wait_for_state(mqtt_probe, "ready", timeout=15)
    wait_until(lambda: truth()["pumps"]["waste"] == 100.0)
    listed = json.loads(pio("jobs", "list", "--running", "--json").stdout)
    assert [row["job_name"] for row in listed] == ["circulate_media"]
    result = pio("kill", "--job-name", "circulate_media")
    assert result.returncode == 0 and "Killed 1 job(s)." in result.stdout
    assert job.wait(10) == 0
    vial = truth()
    assert vial["pumps"] == {"media": 0.0, "alt_media": 0.0, "waste": 0.0}
    assert vial["overflowed_ml"] == 0.0 and vial["media_added_ml"] > 0


def test_a_pump_stops_when_its_process_loses_the_broker(tmp_path, run_job, pio_home) -> None:  # type: ignore[no-untyped-def]
    broker = start_broker(tmp_path / "own-broker")  # this test stops its broker; others keep theirs
    pio_home.broker = broker
    pio_home.write_config()
    try:
        probe = MqttProbe(broker)
        job = run_job("add_alt_media", "--continuously")
        job.wait_for_state(probe, "ready", timeout=15)
        wait_until(lambda: truth()["pumps"]["alt_media"] == 100.0)
        probe.close()
        broker.stop()
        wait_until(lambda: truth()["pumps"]["alt_media"] == 0.0)
        assert job.wait(15) == 1
        assert "Lost the MQTT broker" in job.output()
    finally:
        broker.stop()


def test_a_plugin_adds_a_pump(pio, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    # the pump is declared by a plugin; the user gives it a PWM channel (here alt-media's)
    pio_home.write_config("[PWM]\n3=salt\n")
    plugins = pio_home.path / "plugins"
    plugins.mkdir()
    (plugins / "salt_pump.py").write_text(
        "from pioreactor.sdk import hookimpl\n\n\n"
        "@hookimpl\ndef pioreactor_register_config_defaults(defaults):\n"
        "    defaults.section('pumps', {'salt': 'add'})\n"
    )
    shown = pio("run", "pumps", "--help")
    assert "--salt ML" in shown.stdout, shown.stdout + shown.stderr
    refused = pio("run", "pumps", "--salt", "0.5")
    assert refused.returncode == 1 and "pio calibrations run --device salt_pump" in refused.stderr
    calibrate("salt", "media")
    mark = mqtt_probe.mark()
    result = pio("run", "pumps", "--salt", "0.5", "--media", "0.25", "--salt=0.1")
    assert result.returncode == 0, result.stderr
    assert [(e["event"], e["volume_change"]) for e in events(mqtt_probe, pio_home, mark)] == [
        ("add_salt", 0.5),
        ("add_media", 0.25),
        ("add_salt", 0.1),
    ]
    assert pio("run", "add_alt_media", "--ml", "1").returncode == 1  # alt-media has no channel now

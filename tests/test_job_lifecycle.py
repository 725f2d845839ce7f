"""A job's life as the broker and the user see it: states, settings, signals, duplicates."""

from __future__ import annotations

import json
import signal
import time

from pioreactor.sdk.testing import JobProcess, MqttProbe, PioHome

FAST = ("--config-override", "simulation", "clock_speed", "20")


def start_stirring(run_job, probe: MqttProbe, *args: str) -> JobProcess:  # type: ignore[no-untyped-def]
    mark = probe.mark()
    job = run_job("stirring", *args, run_options=FAST)
    job.wait_for_state(probe, "ready", since=mark)
    return job


def stirring_duty_cycle_in_simulator(home: PioHome) -> float:
    return simulated_duty_cycle(home, "stirring")


def simulated_duty_cycle(home: PioHome, device: str) -> float:
    """What the simulator last drove ``device`` at (it records every actuator in storage)."""
    import sqlite3

    conn = sqlite3.connect(home.path / "storage" / "intermittent.sqlite")
    row = conn.execute("SELECT value FROM kv WHERE namespace='simulator_actuators' AND key=?", (device,)).fetchone()
    conn.close()
    return float(json.loads(row[0])["duty_cycle"])


def test_init_then_ready_with_settings_published(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    job = start_stirring(run_job, mqtt_probe, "--target-rpm", "450")
    states = mqtt_probe.payloads(pio_home.topic("stirring", "$state"))
    assert states[:2] == ["init", "ready"]
    assert mqtt_probe.wait_for(pio_home.topic("stirring", "target_rpm")).payload == "450.0"
    assert job.process.poll() is None


def test_pause_resume_and_stop_over_mqtt(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    job = start_stirring(run_job, mqtt_probe)
    state_set = pio_home.topic("stirring", "$state", "set")

    mark = mqtt_probe.mark()
    mqtt_probe.publish(state_set, "sleeping")
    job.wait_for_state(mqtt_probe, "sleeping", since=mark)
    assert stirring_duty_cycle_in_simulator(pio_home) == 0.0

    mark = mqtt_probe.mark()
    mqtt_probe.publish(state_set, "ready")
    job.wait_for_state(mqtt_probe, "ready", since=mark)

    mark = mqtt_probe.mark()
    mqtt_probe.publish(state_set, "disconnected")
    job.wait_for_state(mqtt_probe, "disconnected", since=mark)
    assert job.wait(5) == 0
    # settings are cleared from the broker; the state stays, saying disconnected
    mqtt_probe.wait_for(pio_home.topic("stirring", "target_rpm"), "", since=mark)
    assert stirring_duty_cycle_in_simulator(pio_home) == 0.0


def test_sigterm_and_sigint_stop_cleanly_and_fast(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    for sig in (signal.SIGTERM, signal.SIGINT):
        job = start_stirring(run_job, mqtt_probe)
        mark = mqtt_probe.mark()
        sent = time.monotonic()
        job.signal(sig)
        assert job.wait(5) == 0
        elapsed = time.monotonic() - sent
        job.wait_for_state(mqtt_probe, "disconnected", since=mark)
        assert stirring_duty_cycle_in_simulator(pio_home) == 0.0
        assert elapsed < 2.0, f"{sig.name} took {elapsed:.2f} s"  # generous: the benchmark measures it
        assert "Traceback" not in job.output()


def test_sigkill_leaves_lost_and_the_next_start_succeeds(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    job = start_stirring(run_job, mqtt_probe)
    mark = mqtt_probe.mark()
    job.signal(signal.SIGKILL)
    job.wait(5)
    job.wait_for_state(mqtt_probe, "lost", since=mark)  # the broker's last will

    mark = mqtt_probe.mark()
    second = start_stirring(run_job, mqtt_probe)
    assert second.process.poll() is None
    assert mqtt_probe.payloads(pio_home.topic("stirring", "$state"))[-1] == "ready"


def test_duplicate_start_is_refused_without_touching_the_running_job(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    first = start_stirring(run_job, mqtt_probe)
    mark = mqtt_probe.mark()
    second = run_job("stirring", run_options=FAST)
    assert second.wait(10) == 1
    assert "stirring is already running" in second.output()
    assert "pio kill --job-name stirring" in second.output()
    assert mqtt_probe.payloads(pio_home.topic("stirring", "$state"), since=mark) == []
    assert first.process.poll() is None


def test_settings_set_good_bad_and_read_only(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    job = start_stirring(run_job, mqtt_probe)
    target = pio_home.topic("stirring", "target_rpm")

    mark = mqtt_probe.mark()
    mqtt_probe.publish(target + "/set", "not-a-number")
    error = mqtt_probe.wait_for(pio_home.topic("logs", "app", "error"), since=mark)
    record = json.loads(error.payload)
    assert "target_rpm" in record["message"] and "not-a-number" in record["message"]
    assert record["task"] == "stirring" and record["level"] == "ERROR"

    mark = mqtt_probe.mark()
    mqtt_probe.publish(target + "/set", "420")
    assert mqtt_probe.wait_for(target, since=mark, retained=False).payload == "420.0"
    info = mqtt_probe.wait_for(pio_home.topic("logs", "app", "info"), lambda p: "Updated target_rpm" in p, since=mark)
    assert "from 500.0 RPM to 420.0 RPM" in json.loads(info.payload)["message"]

    mark = mqtt_probe.mark()
    mqtt_probe.publish(pio_home.topic("stirring", "measured_rpm", "set"), "1")
    warning = mqtt_probe.wait_for(pio_home.topic("logs", "app", "warning"), since=mark)
    assert "read-only" in json.loads(warning.payload)["message"]
    assert job.process.poll() is None


def test_broadcast_set_reaches_the_job(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    start_stirring(run_job, mqtt_probe)
    mark = mqtt_probe.mark()
    mqtt_probe.publish(f"pioreactor/$broadcast/{pio_home.experiment}/stirring/target_rpm/set", "300")
    assert mqtt_probe.wait_for(pio_home.topic("stirring", "target_rpm"), "300.0", since=mark)


FAILING_JOB = '''
from pioreactor.sdk import BackgroundJob, get_hardware, hookimpl


class Heater(BackgroundJob):
    job_name = "faulty_heater"
    published_settings = {"power": {"datatype": "float", "settable": True}}

    def __init__(self, unit: str, experiment: str, *, fail: bool = True) -> None:
        super().__init__(unit, experiment)
        self.pwm = self.hold(get_hardware().pwm("5", 8.0))
        self.pwm.set_duty_cycle(80.0)
        self.power = 80.0
        if fail:
            raise RuntimeError("the heater probe is unplugged")


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add("faulty_heater", "pioreactor_local_plugin_faulty:Heater")
'''


def test_a_job_that_fails_while_starting_leaves_its_hardware_off(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    (pio_home.path / "plugins").mkdir()
    (pio_home.path / "plugins" / "faulty.py").write_text(FAILING_JOB)
    job = run_job("faulty_heater")
    assert job.wait(10) == 1
    assert "the heater probe is unplugged" in job.output()
    assert simulated_duty_cycle(pio_home, "heating") == 0.0  # it was at 80 % before the exception
    job.wait_for_state(mqtt_probe, "disconnected")

    # and the next start is not refused as a duplicate
    second = run_job("faulty_heater", "--no-fail")
    second.wait_for_state(mqtt_probe, "ready")
    assert simulated_duty_cycle(pio_home, "heating") == 80.0
    assert second.stop() == 0
    assert simulated_duty_cycle(pio_home, "heating") == 0.0


PH_PLUGIN = '''
import msgspec
from pioreactor.sdk import BackgroundJob, hookimpl


class PhReading(msgspec.Struct):
    ph: float
    probe: str


class PhMeter(BackgroundJob):
    job_name = "ph_meter"
    published_settings = {"ph": {"datatype": PhReading, "settable": False, "unit": "pH"}}

    def __init__(self, unit: str, experiment: str) -> None:
        super().__init__(unit, experiment)
        self.ph = PhReading(ph=6.8, probe="glass")


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add("ph_meter", "pioreactor_local_plugin_ph:PhMeter")
'''


def test_a_plugins_own_struct_is_a_setting_datatype(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    (pio_home.path / "plugins").mkdir()
    (pio_home.path / "plugins" / "ph.py").write_text(PH_PLUGIN)
    job = run_job("ph_meter")
    job.wait_for_state(mqtt_probe, "ready")
    reading = mqtt_probe.wait_for(pio_home.topic("ph_meter", "ph")).payload
    assert json.loads(reading) == {"ph": 6.8, "probe": "glass"}
    assert job.stop() == 0
    assert "Traceback" not in job.output()


def test_a_setting_datatype_that_is_neither_a_primitive_nor_a_struct_is_refused() -> None:
    import pytest
    from pioreactor.kernel.settings import check_published_settings

    with pytest.raises(ValueError, match=r"meter.published_settings\['ph'\]: datatype 'PhReading' is neither"):
        check_published_settings("meter", {"ph": {"datatype": "PhReading", "settable": False}})

    class NotAStruct:
        pass

    with pytest.raises(ValueError, match="neither one of"):
        check_published_settings("meter", {"ph": {"datatype": NotAStruct, "settable": False}})

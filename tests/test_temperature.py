"""The temperature automations on the simulated vial, on a scaled clock.

The vial's truth (``ground_truth()``) is read in this process, which shares the jobs' scaled
clock through ``config.ini``: at 600x a simulated minute lasts 0.1 s. Faster clocks make the
hold test flaky on a busy machine: a process stalled 20 ms during the heater's pause before a
reading is then a simulated heater-off of 12 s more, and the vial (4 min time constant) cools.
"""

from __future__ import annotations

import json
import signal
import time
from datetime import datetime
from typing import Any

from pioreactor.sdk.testing import JobProcess, MqttProbe, PioHome

SPEED = 600
HOLD = 0.3  # degrees C around the target, for the vial and for what the job publishes
JOB = "temperature_automation"


def fast_config(home: PioHome, simulation: str = "") -> None:
    home.write_config(f"[simulation]\nclock_speed={SPEED}\nseed=7\n{simulation}")


def truth() -> dict[str, Any]:
    from pioreactor.plugins_core.simulator.world import ground_truth

    return ground_truth()


def sample_vial(until: float) -> list[dict[str, Any]]:
    """The vial's true state every few simulated seconds, until ``until`` (simulated)."""
    from pioreactor.plugins_core.simulator.world import get_world

    samples = []
    with get_world() as world:
        while (now := world.ground_truth())["time"] < until:
            samples.append(now)
            time.sleep(0.01)  # sampling the vial, not waiting for anything
    return samples


def reading(payload: str) -> tuple[float, float]:
    """(temperature, simulated time) of a ``temperature`` payload."""
    data = json.loads(payload)
    at = datetime.fromisoformat(data["timestamp"].replace("Z", "+00:00")).timestamp()
    return float(data["temperature"]), at


def wait_for_reading(probe: MqttProbe, home: PioHome, predicate: Any, *, since: int = 0, timeout: float = 15) -> int:
    """Wait for a published temperature whose (temperature, time) satisfies ``predicate``;
    returns the index just after it (for ``since=``)."""
    seen = probe.wait_for(
        home.topic(JOB, "temperature"), lambda p: p != "" and predicate(*reading(p)), since=since, timeout=timeout
    )
    return probe.messages.index(seen) + 1


def readings(probe: MqttProbe, home: PioHome, since: int = 0) -> list[float]:
    topic = home.topic(JOB, "temperature")
    return [reading(m.payload)[0] for m in probe.messages[since:] if m.topic == topic and m.payload]


def logs(probe: MqttProbe, home: PioHome, level: str, since: int = 0) -> list[str]:
    topic = home.topic("logs", "app", level)
    return [json.loads(m.payload)["message"] for m in probe.messages[since:] if m.topic == topic]


def start(run_job, probe: MqttProbe, *args: str) -> JobProcess:
    mark = probe.mark()
    job = run_job(JOB, "--automation-name", *args)
    job.wait_for_state(probe, "ready", since=mark, timeout=15)
    return job


def positive(payload: str) -> bool:
    return payload not in ("", "0.0") and float(payload) > 0


def test_thermostat_holds_follows_a_new_target_pauses_and_stops(run_job, mqtt_probe, pio_home) -> None:
    fast_config(pio_home)
    job = start(run_job, mqtt_probe, "thermostat", "--target-temperature", "30")
    assert truth()["temperature"] < 23  # room temperature

    # once near the target, an hour within +-0.3 degrees C: the vial itself and what is published
    at_target = wait_for_reading(mqtt_probe, pio_home, lambda t, at: t >= 29.9, timeout=30)
    hold_from = reading(mqtt_probe.messages[at_target - 1].payload)[1] + 3 * 60
    mark = wait_for_reading(mqtt_probe, pio_home, lambda t, at: at >= hold_from, since=at_target)
    vial = sample_vial(hold_from + 60 * 60)
    published = readings(mqtt_probe, pio_home, mark - 1)
    temperatures = [s["temperature"] for s in vial]
    print(f"vial {min(temperatures):.3f}..{max(temperatures):.3f}, published {min(published):.3f}..{max(published):.3f}")
    assert len(published) >= 55 and len(vial) >= 200
    assert all(abs(t - 30) <= HOLD for t in temperatures), (min(temperatures), max(temperatures))
    assert all(abs(t - 30) <= HOLD for t in published), published
    # the heater works at about 45 % (8 degrees C above the room), and is off for each reading
    duty_cycles = [s["heater_duty_cycle"] for s in vial]
    assert all(30 < dc < 60 for dc in duty_cycles if dc > 0), duty_cycles
    assert duty_cycles.count(0.0) >= 1

    # a new target over MQTT: the vial follows
    mark = mqtt_probe.mark()
    mqtt_probe.publish(pio_home.topic(JOB, "target_temperature", "set"), "33")
    mqtt_probe.wait_for(pio_home.topic(JOB, "target_temperature"), "33.0", since=mark)
    reached = wait_for_reading(mqtt_probe, pio_home, lambda t, at: t >= 32.8, since=mark, timeout=10)
    # one reading at 32.8 may be the sensor's noise on a vial still warming: held from 5 minutes on
    settled_from = reading(mqtt_probe.messages[reached - 1].payload)[1] + 5 * 60
    settled = wait_for_reading(mqtt_probe, pio_home, lambda t, at: at >= settled_from, since=reached)
    wait_for_reading(mqtt_probe, pio_home, lambda t, at: True, since=settled)
    after = readings(mqtt_probe, pio_home, settled - 1)
    assert all(abs(t - 33) <= HOLD for t in after), after
    assert abs(truth()["temperature"] - 33) <= HOLD

    # sleeping: heater off; awake: back on
    state_set = pio_home.topic(JOB, "$state", "set")
    mark = mqtt_probe.mark()
    mqtt_probe.publish(state_set, "sleeping")
    job.wait_for_state(mqtt_probe, "sleeping", since=mark)
    assert truth()["heater_duty_cycle"] == 0.0
    mqtt_probe.wait_for(pio_home.topic(JOB, "heater_duty_cycle"), "0.0", since=mark)
    mark = mqtt_probe.mark()
    mqtt_probe.publish(state_set, "ready")
    job.wait_for_state(mqtt_probe, "ready", since=mark)
    mqtt_probe.wait_for(pio_home.topic(JOB, "heater_duty_cycle"), positive, since=mark)
    resumed = sample_vial(truth()["time"] + 2 * 60)
    assert sum(s["heater_duty_cycle"] > 0 for s in resumed) > len(resumed) / 2  # on, but for the reading pauses

    # stopped over MQTT: heater off
    mark = mqtt_probe.mark()
    mqtt_probe.publish(state_set, "disconnected")
    job.wait_for_state(mqtt_probe, "disconnected", since=mark)
    assert job.wait() == 0
    assert truth()["heater_duty_cycle"] == 0.0


def test_hard_limits_with_a_heater_stuck_on(run_job, mqtt_probe, pio_home) -> None:
    from pioreactor.plugins_core.simulator.faults import set_fault

    fast_config(pio_home, "ambient_temperature=50\n")  # so a stuck heater reaches 68 degrees C
    job = start(run_job, mqtt_probe, "thermostat", "--target-temperature", "40")
    mark = mqtt_probe.mark()
    set_fault("heater_stuck_on", True)
    critical = mqtt_probe.wait_for(pio_home.topic("logs", "app", "critical"), since=mark, timeout=15)
    assert "above 66 °C: heater off, stopping" in json.loads(critical.payload)["message"]
    assert job.wait() == 1
    job.wait_for_state(mqtt_probe, "disconnected", since=mark)
    warnings = logs(mqtt_probe, pio_home, "warning", mark)
    assert any("above 63 °C: reducing heating" in w for w in warnings), warnings
    assert sum("above 65 °C: heater switched off" in w for w in warnings) == 1, warnings  # said once
    assert truth()["heater_duty_cycle"] == 0.0
    temperatures = readings(mqtt_probe, pio_home, mark)
    assert any(63 < t <= 65 for t in temperatures) and any(65 < t <= 66 for t in temperatures), temperatures
    assert temperatures[-1] > 66


def test_a_garbage_sensor_switches_the_heater_off_and_the_job_carries_on(run_job, mqtt_probe, pio_home) -> None:
    from pioreactor.plugins_core.simulator.faults import set_fault

    fast_config(pio_home)
    job = start(run_job, mqtt_probe, "thermostat", "--target-temperature", "35")
    heater = pio_home.topic(JOB, "heater_duty_cycle")
    mqtt_probe.wait_for(heater, positive)

    mark = mqtt_probe.mark()
    set_fault("temperature_sensor_garbage", True)
    error = mqtt_probe.wait_for(pio_home.topic("logs", "app", "error"), since=mark)
    assert "The temperature sensor gives readings that cannot be right" in json.loads(error.payload)["message"]
    mqtt_probe.wait_for(heater, "0.0", since=mark)
    assert truth()["heater_duty_cycle"] == 0.0
    assert job.process.poll() is None
    assert mqtt_probe.payloads(pio_home.topic(JOB, "$state"))[-1] == "ready"

    # it goes on reading, and heats again once the sensor makes sense
    healed = mqtt_probe.mark()
    set_fault("temperature_sensor_garbage", False)
    mqtt_probe.wait_for(pio_home.topic("logs", "app", "info"), lambda p: "reads sensibly again" in p, since=healed)
    mqtt_probe.wait_for(heater, positive, since=healed)
    assert len(logs(mqtt_probe, pio_home, "error", mark)) == 1  # one error, not one per reading

    mark = mqtt_probe.mark()
    job.signal(signal.SIGTERM)
    assert job.wait() == 0
    job.wait_for_state(mqtt_probe, "disconnected", since=mark)
    assert truth()["heater_duty_cycle"] == 0.0


def test_only_record_temperature_never_heats(run_job, mqtt_probe, pio_home) -> None:
    from pioreactor.plugins_core.simulator.world import reset_world

    fast_config(pio_home)
    reset_world(heater_duty_cycle=50.0)  # as a killed job may leave it
    job = start(run_job, mqtt_probe, "only_record_temperature")
    assert truth()["heater_duty_cycle"] == 0.0
    index = 0
    for _ in range(3):
        index = wait_for_reading(mqtt_probe, pio_home, lambda t, at: True, since=index)
    assert set(mqtt_probe.payloads(pio_home.topic(JOB, "heater_duty_cycle"))) == {"0.0"}
    assert truth()["heater_duty_cycle"] == 0.0
    assert job.stop() == 0


def test_a_failed_start_leaves_the_heater_off(pio, pio_home) -> None:
    from pioreactor.plugins_core.simulator.world import reset_world

    fast_config(pio_home)
    reset_world(heater_duty_cycle=60.0)
    result = pio("run", JOB, "--automation-name", "thermostat", "--target-temperature", "80")
    assert result.returncode == 1
    assert "target_temperature must be between 0 and 50 °C, got 80" in result.stderr
    assert truth()["heater_duty_cycle"] == 0.0

    result = pio("run", JOB, "--automation-name", "thermostat")
    assert result.returncode != 0 and "--target-temperature" in result.stderr


def test_the_command_lists_automations_and_refuses_bad_ones(pio) -> None:
    result = pio("run", JOB, "--help")
    assert result.returncode == 0
    assert "thermostat" in result.stdout and "only_record_temperature" in result.stdout

    result = pio("run", JOB, "--automation-name", "nope")
    assert result.returncode == 2
    assert "no temperature automation named 'nope'" in result.stderr
    assert "Available: only_record_temperature, thermostat" in result.stderr
    result = pio("run", JOB, "--automation-name", "thermostatt")
    assert "Did you mean: thermostat?" in result.stderr

    result = pio("run", JOB, "--automation-name", "thermostat", "--target-temperature", "warm")
    assert result.returncode == 2 and "'warm' is not a valid float" in result.stderr

    result = pio("run", JOB, "--automation-name", "thermostat", "--help")
    assert "--target-temperature FLOAT" in result.stdout

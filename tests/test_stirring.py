"""Stirring on the simulated motor, on a scaled clock."""

from __future__ import annotations

import json

from pioreactor.sdk.testing import MqttProbe, PioHome

# 60x: a 23 s control period passes in 0.4 s
FAST = ("--config-override", "simulation", "clock_speed", "60")


def measured(payload: str) -> float:
    return float(json.loads(payload)["measured_rpm"]) if payload else -1.0


def rpm_readings(probe: MqttProbe, home: PioHome, count: int, since: int = 0) -> list[float]:
    topic = home.topic("stirring", "measured_rpm")
    readings: list[float] = []
    index = since
    while len(readings) < count:
        seen = probe.wait_for(topic, lambda p: p != "", since=index, timeout=15)
        index = probe.messages.index(seen) + 1
        readings.append(measured(seen.payload))
    return readings


def test_pid_brings_the_stir_bar_to_its_target(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    # a bar that needs more than the default duty cycle: the loop has to find it
    pio_home.write_config("[simulation]\nmotor_rpm_per_duty_cycle=25\nseed=1\n")
    job = run_job("stirring", "--target-rpm", "600", run_options=FAST)
    job.wait_for_state(mqtt_probe, "ready")
    readings = rpm_readings(mqtt_probe, pio_home, 12)
    # it starts well off target (375 RPM at the initial 15 %; a busy machine may report its first
    # reading after the loop's first correction)...
    assert abs(readings[0] - 600) > 60
    assert all(abs(r - 600) < 600 * 0.05 for r in readings[-3:]), readings  # ...and settles within 5 %

    # a new target is reached too
    mark = mqtt_probe.mark()
    mqtt_probe.publish(pio_home.topic("stirring", "target_rpm", "set"), "350")
    readings = rpm_readings(mqtt_probe, pio_home, 6, since=mark)
    assert all(abs(r - 350) < 350 * 0.05 for r in readings[-2:]), readings
    assert job.stop() == 0


def test_a_stalled_bar_is_noticed_and_kicked(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    from pioreactor.plugins_core.simulator.faults import set_fault

    job = run_job("stirring", run_options=FAST)
    job.wait_for_state(mqtt_probe, "ready")
    rpm_readings(mqtt_probe, pio_home, 1)
    mark = mqtt_probe.mark()
    set_fault("stirrer_stalled", True)
    warning = mqtt_probe.wait_for(pio_home.topic("logs", "app", "warning"), lambda p: "stalled" in p, since=mark, timeout=15)
    assert json.loads(warning.payload)["task"] == "stirring"
    set_fault("stirrer_stalled", False)
    mark = mqtt_probe.mark()
    # spinning again, and staying so (the first readings may still average over the stall, or
    # catch the bar speeding up on a busy machine)
    readings = rpm_readings(mqtt_probe, pio_home, 6, since=mark)
    assert readings[-1] > 300 and readings[-2] > 300, readings
    assert job.stop() == 0


def test_open_loop_keeps_the_duty_cycle(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    job = run_job("stirring", "--no-use-rpm", "--duty-cycle", "30", run_options=FAST)
    job.wait_for_state(mqtt_probe, "ready")
    assert mqtt_probe.wait_for(pio_home.topic("stirring", "duty_cycle")).payload == "30.0"
    mark = mqtt_probe.mark()
    mqtt_probe.publish(pio_home.topic("stirring", "target_rpm", "set"), "400")
    error = mqtt_probe.wait_for(pio_home.topic("logs", "app", "error"), since=mark)
    assert "--no-use-rpm" in json.loads(error.payload)["message"]
    assert job.stop() == 0


def test_bad_option_values_are_refused_with_the_value(pio) -> None:  # type: ignore[no-untyped-def]
    result = pio("run", "stirring", "--target-rpm", "9000")
    assert result.returncode == 1
    assert "target_rpm must be between 0 and 1500, got 9000" in result.stderr
    assert "AttributeError" not in result.stderr
    result = pio("run", "stirring", "--target-rpm", "fast")
    assert result.returncode == 2 and "'fast' is not a valid float" in result.stderr

"""``pio run self_test`` on the simulator: every check passes with a vial of water, each fails
under its fault, results are published and stored, ``--retry-failed`` and ``-k``, and the unit
is the self-test's alone while it runs."""

from __future__ import annotations

from typing import Any

from pioreactor.sdk.testing import MqttProbe, PioHome
from test_pumps import truth

CHECKS = [
    "test_pioreactor_HAT_present",
    "test_detect_heating_pcb",
    "test_positive_correlation_between_temperature_and_heating",
    "test_aux_power_is_not_too_high",
    "test_all_positive_correlations_between_pds_and_leds",
    "test_ambient_light_interference",
    "test_REF_is_lower_than_0_dot_256_volts",
    "test_REF_is_in_correct_position",
    "test_PD_is_near_0_volts_for_blank",
    "test_positive_correlation_between_rpm_and_stirring",
]

# each check, and the fault that must make it fail
FAULTS: list[tuple[str, str, Any]] = [
    ("test_pioreactor_HAT_present", "hat_missing", True),
    ("test_detect_heating_pcb", "heating_pcb_missing", True),
    ("test_positive_correlation_between_temperature_and_heating", "heater_disconnected", True),
    ("test_aux_power_is_not_too_high", "pwm_rail_voltage", 24.0),
    ("test_all_positive_correlations_between_pds_and_leds", "photodiode_disconnected", "1"),
    ("test_ambient_light_interference", "ambient_light", 0.2),
    ("test_REF_is_lower_than_0_dot_256_volts", "photodiode_disconnected", "1"),
    ("test_REF_is_in_correct_position", "reference_photodiode_misplaced", True),
    ("test_PD_is_near_0_volts_for_blank", "ambient_light", 0.2),
    ("test_positive_correlation_between_rpm_and_stirring", "stirrer_stalled", True),
]


def water_vial(home: PioHome) -> None:
    """A fast clock and a vial of clear water, as the self-test expects."""
    from pioreactor.kernel.plugins import load_config_with_plugins
    from pioreactor.plugins_core.simulator.world import reset_world

    home.write_config("[simulation]\nclock_speed=30\nseed=3\n")
    load_config_with_plugins()
    reset_world(od=0.0)


def result_topic(home: PioHome, name: str) -> str:
    return f"pioreactor/{home.unit}/_testing_{home.experiment}/self_test/{name}"


def test_every_check_passes_with_a_vial_of_water(pio, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    from pioreactor.plugins_core.monitor.self_test import stored_results

    water_vial(pio_home)
    result = pio("run", "self_test", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All tests passed" in result.stderr + result.stdout
    for name in CHECKS:
        mqtt_probe.wait_for(result_topic(pio_home, name), "1")
    mqtt_probe.wait_for(result_topic(pio_home, "all_tests_passed"), "1")
    pairs = mqtt_probe.wait_for(result_topic(pio_home, "correlations_between_pds_and_leds")).payload
    assert '["A", "REF"]' in pairs
    stored = stored_results()
    assert sorted(stored) == sorted(CHECKS) and all(r["passed"] for r in stored.values())


def test_each_check_fails_under_its_fault_and_retry_failed_reruns_only_those(pio, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    from pioreactor.plugins_core.monitor.self_test import stored_results
    from pioreactor.plugins_core.simulator.faults import clear_faults, set_fault

    water_vial(pio_home)
    for name, fault, value in FAULTS:
        set_fault(fault, value)
        mark = mqtt_probe.mark()
        result = pio("run", "self_test", "-k", name, timeout=120)
        clear_faults()
        assert result.returncode == 1, f"{name} passed under {fault}: {result.stderr}"
        mqtt_probe.wait_for(result_topic(pio_home, name), "0", since=mark)
        assert stored_results()[name]["passed"] is False
        assert stored_results()[name]["message"]

    # with the faults gone, --retry-failed runs only what failed (here: everything that ran)
    set_fault("hat_missing", True)
    assert pio("run", "self_test", "-k", "HAT", timeout=60).returncode == 1
    set_fault("hat_missing", False)
    before = {name: result["timestamp"] for name, result in stored_results().items()}
    result = pio("run", "self_test", "--retry-failed", timeout=120)
    assert result.returncode == 0, result.stderr
    after = stored_results()
    assert all(r["passed"] for r in after.values())
    assert all(after[name]["timestamp"] != before[name] for name in before)
    # all ten ran before: nothing is left to retry
    result = pio("run", "self_test", "--retry-failed", timeout=60)
    assert result.returncode == 0 and "No tests ran" in result.stderr + result.stdout


def test_the_unit_is_the_self_tests_alone(run_job, pio, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    water_vial(pio_home)
    stirring = run_job("stirring", "--target-rpm", "400")
    stirring.wait_for_state(mqtt_probe, "ready")
    refused = pio("run", "self_test")
    assert refused.returncode == 1 and "stirring is running" in refused.stderr
    assert stirring.stop() == 0

    monitor = run_job("monitor")  # long-running jobs may run alongside
    mqtt_probe.wait_for(f"pioreactor/{pio_home.unit}/$experiment/monitor/$state", "ready")
    # a heating check that lasts (simulated hours), so it is still running however busy the machine
    pio_home.write_config("[simulation]\nclock_speed=30\nseed=3\n[self_test]\nheating_step_seconds=36000\n")
    self_test = run_job("self_test", "-k", "temperature_and_heating")
    mqtt_probe.wait_for(f"pioreactor/{pio_home.unit}/_testing_{pio_home.experiment}/self_test/$state", "ready")
    for command in (("stirring",), ("led_intensity", "--A", "10")):
        result = pio("run", *command)
        assert result.returncode == 1, result.stderr
        assert "self_test is running" in result.stderr
    assert self_test.stop() == 1  # stopped mid-check: that check did not pass
    assert truth()["heater_duty_cycle"] == 0  # and its heater is off
    assert monitor.stop() == 0


def test_a_plugin_adds_a_check(pio, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    water_vial(pio_home)
    plugins = pio_home.path / "plugins"
    plugins.mkdir()
    flag = pio_home.path / "sensor_present"
    (plugins / "my_sensor.py").write_text(
        "from pathlib import Path\n"
        "from pioreactor.plugins_core.monitor.api import CheckFailed, register_self_test\n\n"
        "def test_my_sensor_answers(bench):\n"
        f"    if not Path({str(flag)!r}).exists():\n"
        "        raise CheckFailed('my sensor does not answer: is it plugged in?')\n\n"
        "register_self_test(test_my_sensor_answers)\n"
    )
    result = pio("run", "self_test", "-k", "my_sensor", timeout=60)
    assert result.returncode == 1 and "my sensor does not answer" in result.stderr
    mqtt_probe.wait_for(result_topic(pio_home, "test_my_sensor_answers"), "0")
    flag.touch()
    assert pio("run", "self_test", "--retry-failed", "-k", "my_sensor", timeout=60).returncode == 0
    mqtt_probe.wait_for(result_topic(pio_home, "test_my_sensor_answers"), "1")

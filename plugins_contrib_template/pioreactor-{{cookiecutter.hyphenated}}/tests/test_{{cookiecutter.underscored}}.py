"""Tests of the plugin against a real broker and the simulator.

The fixtures (pio_home, pio, run_job, mqtt_probe) come from pioreactor.sdk.testing, a pytest
plugin installed with pioreactor: no import needed.
"""

from pioreactor.sdk import local_intermittent_storage

JOB = "{{ cookiecutter.underscored }}"


def simulated_duty_cycle() -> float:
    """What the simulator's PWM output for the device is driven at now."""
    with local_intermittent_storage("simulator_actuators") as store:
        return float((store.get(JOB) or {}).get("duty_cycle", 0.0))


def test_the_plugin_loads_and_everything_it_registers_works(pio):
    # imports the plugin, runs every hook, loads every target, runs the table migrations
    result = pio("plugins", "check", JOB)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{JOB}: ok" in result.stdout


def test_the_job_drives_its_output_and_obeys_its_setting(pio_home, run_job, mqtt_probe):
    pio_home.write_config(f"[PWM]\n5 = {JOB}\n")  # give the device a channel (5 is the heater's by default)
    job = run_job(JOB, "--duty-cycle", "40")
    job.wait_for_state(mqtt_probe, "ready")
    mqtt_probe.wait_for(pio_home.topic(JOB, "duty_cycle"), lambda payload: float(payload) == 40.0)
    assert simulated_duty_cycle() == 40.0

    mqtt_probe.publish(pio_home.topic(JOB, "duty_cycle", "set"), "25")
    mqtt_probe.wait_for(pio_home.topic(JOB, "duty_cycle"), lambda payload: float(payload) == 25.0)
    assert simulated_duty_cycle() == 25.0

    assert job.stop() == 0  # a clean shutdown: exit status 0, and the output is off
    assert simulated_duty_cycle() == 0.0


def test_without_a_pwm_channel_the_job_says_what_to_add(pio):
    result = pio("run", JOB)
    assert result.returncode != 0
    assert f"no PWM channel is assigned to '{JOB}'" in result.stderr and "[PWM]" in result.stderr

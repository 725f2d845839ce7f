"""The example LED automation, run by the core led_automation job."""

AUTOMATION = "{{ cookiecutter.underscored }}_pulse"


def test_the_automation_switches_its_led(pio_home, run_job, mqtt_probe):
    job = run_job("led_automation", "--automation-name", AUTOMATION, "--channel", "C", "--intensity", "30")
    job.wait_for_state(mqtt_probe, "ready")
    event = mqtt_probe.wait_for(pio_home.topic("led_automation", "latest_event"))
    assert "LED C on" in event.payload
    assert job.stop() == 0

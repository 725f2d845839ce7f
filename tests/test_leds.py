"""LEDs: the ``led_intensity`` action, ``pio kill --all-jobs``, and the LED automations."""

from __future__ import annotations

import json
import signal
from datetime import datetime
from typing import Any

from pioreactor.sdk.testing import MqttProbe, PioHome

SPEED = 600  # a simulated minute lasts 0.1 s


def leds_in_vial() -> dict[str, float]:
    from pioreactor.plugins_core.simulator.world import ground_truth

    return dict(ground_truth()["leds"])


def remembered() -> dict[str, float]:
    from pioreactor.plugins_core.leds.api import current_intensities

    return current_intensities()


def retained(home: PioHome, topic: str) -> Any:
    """The retained payload on ``topic``, as a newcomer sees it."""
    probe = MqttProbe(home.broker)
    try:
        return json.loads(probe.wait_for(topic, retained=True).payload)
    finally:
        probe.close()


def change_events(probe: MqttProbe, home: PioHome, since: int = 0) -> list[dict[str, Any]]:
    topic = home.topic("led_change_events")
    return [json.loads(m.payload) for m in probe.messages[since:] if m.topic == topic]


def simulated_time(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()


def test_led_intensity_sets_publishes_logs_and_remembers(pio, mqtt_probe, pio_home) -> None:
    mark = mqtt_probe.mark()
    result = pio("run", "led_intensity", "--A", "10", "--B", "5")
    assert result.returncode == 0, result.stderr
    assert leds_in_vial() == {"A": 10.0, "B": 5.0, "C": 0.0, "D": 0.0}
    assert remembered() == {"A": 10.0, "B": 5.0, "C": 0.0, "D": 0.0}  # seen from another process
    assert retained(pio_home, pio_home.topic("leds", "intensity")) == {"A": 10.0, "B": 5.0, "C": 0.0, "D": 0.0}
    events = change_events(mqtt_probe, pio_home, mark)
    assert [(e["channel"], e["intensity"], e["source_of_event"]) for e in events] == [("A", 10.0, "CLI"), ("B", 5.0, "CLI")]
    infos = [json.loads(p)["message"] for p in mqtt_probe.payloads(pio_home.topic("logs", "app", "info"))]
    assert "Updated LED A from 0% to 10%." in infos and "Updated LED B from 0% to 5%." in infos

    # one event per channel that changes
    mark = mqtt_probe.mark()
    assert pio("run", "led_intensity", "--A", "10", "--C", "20.5", "--source-of-event", "me").returncode == 0
    events = change_events(mqtt_probe, pio_home, mark)
    assert [(e["channel"], e["intensity"], e["source_of_event"]) for e in events] == [("C", 20.5, "me")]
    assert retained(pio_home, pio_home.topic("leds", "intensity")) == {"A": 10.0, "B": 5.0, "C": 20.5, "D": 0.0}

    # nonsense is refused, and changes nothing
    result = pio("run", "led_intensity", "--A", "150")
    assert result.returncode == 2 and "150.0 is not in the range 0<=x<=100" in result.stderr
    result = pio("run", "led_intensity")
    assert result.returncode == 2 and "give at least one of --A, --B, --C, --D" in result.stderr
    assert leds_in_vial() == remembered() == {"A": 10.0, "B": 5.0, "C": 20.5, "D": 0.0}


def test_light_dark_cycle_switches_on_time_takes_new_settings_and_cleans_up(run_job, pio, mqtt_probe, pio_home) -> None:
    pio_home.write_config(f"[simulation]\nclock_speed={SPEED}\n")
    assert pio("run", "led_intensity", "--A", "10").returncode == 0  # not the automation's LED
    prefix = ("led_automation",)
    latest_event = pio_home.topic(*prefix, "latest_event")

    def wait_event(text: str, since: int) -> int:
        seen = mqtt_probe.wait_for(latest_event, lambda p: p != "" and text in (json.loads(p)["message"] or ""), since=since)
        assert json.loads(seen.payload)["event_name"] == "ChangedLedIntensity"
        return mqtt_probe.messages.index(seen) + 1

    mark = mqtt_probe.mark()
    job = run_job(
        "led_automation", "--automation-name", "light_dark_cycle",
        "--light-intensity", "20", "--light-duration-minutes", "3", "--dark-duration-minutes", "2",
    )
    on = wait_event("0.0min: turned on LEDs.", mark)
    # a brighter light, at once (the light is on until minute 3)
    mqtt_probe.publish(pio_home.topic(*prefix, "light_intensity", "set"), "60")
    brighter = mqtt_probe.wait_for(pio_home.topic("led_change_events"), lambda p: json.loads(p)["intensity"] == 60.0, since=on)
    off = wait_event("3.0min: turned off LEDs.", on)
    on_again = wait_event("5.0min: turned on LEDs.", off)
    assert leds_in_vial() == {"A": 10.0, "B": 0.0, "C": 60.0, "D": 60.0}

    # three minutes of light, two of dark, on the simulated clock
    events_c = [e for e in change_events(mqtt_probe, pio_home, mark) if e["channel"] == "C"]
    assert [e["intensity"] for e in events_c] == [20.0, 60.0, 0.0, 60.0], events_c
    assert all(e["source_of_event"] == "led_automation:light_dark_cycle" for e in events_c)
    times = [simulated_time(e) for e in events_c]
    assert abs(times[2] - times[0] - 180) < 30 and abs(times[3] - times[2] - 120) < 30, times
    assert mqtt_probe.messages.index(brighter) < off

    # a shorter dark period: the next dark lasts one minute
    changed = mqtt_probe.mark()
    mqtt_probe.publish(pio_home.topic(*prefix, "dark_duration_minutes", "set"), "1")
    mqtt_probe.wait_for(pio_home.topic(*prefix, "dark_duration_minutes"), "1", since=on_again)
    off = wait_event("7.0min: turned off LEDs.", on_again)
    wait_event("8.0min: turned on LEDs.", off)
    events_c = [e for e in change_events(mqtt_probe, pio_home, changed) if e["channel"] == "C"]
    assert [e["intensity"] for e in events_c] == [0.0, 60.0], events_c
    assert abs(simulated_time(events_c[1]) - simulated_time(events_c[0]) - 60) < 30, events_c

    # stopped: the LEDs it drove are off, the others as they were
    mark = mqtt_probe.mark()
    job.signal(signal.SIGTERM)
    assert job.wait() == 0
    job.wait_for_state(mqtt_probe, "disconnected", since=mark)
    assert leds_in_vial() == remembered() == {"A": 10.0, "B": 0.0, "C": 0.0, "D": 0.0}
    assert retained(pio_home, pio_home.topic("leds", "intensity")) == {"A": 10.0, "B": 0.0, "C": 0.0, "D": 0.0}


def test_silent_runs_and_changes_nothing(run_job, mqtt_probe, pio_home) -> None:
    pio_home.write_config(f"[simulation]\nclock_speed={SPEED}\n")
    mark = mqtt_probe.mark()
    job = run_job("led_automation", "--automation-name", "silent")
    job.wait_for_state(mqtt_probe, "ready", since=mark)
    event = pio_home.topic("led_automation", "latest_event")
    first = mqtt_probe.wait_for(event, lambda p: p != "" and json.loads(p)["event_name"] == "NoEvent", since=mark)
    mqtt_probe.wait_for(event, lambda p: p != "", since=mqtt_probe.messages.index(first) + 1)  # runs again a minute later
    assert job.stop() == 0
    assert change_events(mqtt_probe, pio_home, mark) == []
    assert leds_in_vial() == {"A": 0.0, "B": 0.0, "C": 0.0, "D": 0.0}


def test_kill_all_jobs_switches_every_led_off(run_job, pio, mqtt_probe, pio_home) -> None:
    assert pio("run", "led_intensity", "--A", "30", "--B", "40").returncode == 0
    mark = mqtt_probe.mark()
    job = run_job("led_automation", "--automation-name", "light_dark_cycle", "--light-intensity", "25")
    mqtt_probe.wait_for(pio_home.topic("led_automation", "latest_event"), lambda p: "turned on" in p, since=mark)
    assert leds_in_vial() == {"A": 30.0, "B": 40.0, "C": 25.0, "D": 25.0}

    result = pio("kill", "--all-jobs")
    assert result.returncode == 0, result.stderr
    assert job.wait() == 0
    assert leds_in_vial() == remembered() == {"A": 0.0, "B": 0.0, "C": 0.0, "D": 0.0}
    assert retained(pio_home, pio_home.topic("leds", "intensity")) == {"A": 0.0, "B": 0.0, "C": 0.0, "D": 0.0}


def test_led_changes_wait_for_od_readings_and_are_never_undone(run_job, pio, mqtt_probe, pio_home) -> None:
    job = run_job("od_reading", "--interval", "0.25")  # the LEDs are locked for part of each reading
    job.wait_for_state(mqtt_probe, "ready", timeout=20)
    mqtt_probe.wait_for(pio_home.topic("od_reading", "ods"), timeout=10)
    for value in (10.0, 20.0, 30.0, 40.0, 50.0, 60.0):
        result = pio("run", "led_intensity", "--B", str(value))
        assert result.returncode == 0, result.stderr  # it waited for the reading, then changed B
    # several readings later (each switches B off while it reads, then back), B is the last value
    # set: no reading put back a stale one
    mark = mqtt_probe.mark()
    for _ in range(3):
        mark = mqtt_probe.messages.index(mqtt_probe.wait_for(pio_home.topic("od_reading", "ods"), since=mark, timeout=10)) + 1
    assert job.stop() == 0
    assert remembered()["B"] == 60.0 and leds_in_vial()["B"] == 60.0

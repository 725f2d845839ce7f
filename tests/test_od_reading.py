"""od_reading and od_blank on the simulated vial."""

from __future__ import annotations

import json

from pioreactor.sdk.testing import MqttProbe, PioHome


def sim(speed: int) -> tuple[str, ...]:
    return ("--config-override", "simulation", "clock_speed", str(speed))


def ground_truth(home: PioHome) -> dict:  # type: ignore[type-arg]
    from pioreactor.kernel.plugins import load_config_with_plugins
    from pioreactor.plugins_core.simulator.world import ground_truth as truth

    load_config_with_plugins()
    return truth()


def readings(probe: MqttProbe, home: PioHome, count: int, since: int = 0, timeout: float = 20) -> list[dict]:  # type: ignore[type-arg]
    topic = home.topic("od_reading", "ods")
    found: list[dict] = []  # type: ignore[type-arg]
    index = since
    while len(found) < count:
        seen = probe.wait_for(topic, lambda p: p != "", since=index, timeout=timeout)
        index = probe.messages.index(seen) + 1
        found.append(json.loads(seen.payload))
    return found


def test_readings_are_published_as_upstream(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    job = run_job("od_reading", run_options=sim(60))
    job.wait_for_state(mqtt_probe, "ready")
    first = readings(mqtt_probe, pio_home, 2)[-1]
    reading = first["ods"]["2"]
    assert set(reading) >= {"timestamp", "angle", "od", "channel", "ir_led_intensity"}
    assert reading["angle"] == "90" and reading["channel"] == "2" and reading["od"] > 0
    od2 = json.loads(mqtt_probe.wait_for(pio_home.topic("od_reading", "od2")).payload)
    assert od2["channel"] == "2"
    assert float(mqtt_probe.wait_for(pio_home.topic("od_reading", "interval")).payload) == 5.0
    assert float(mqtt_probe.wait_for(pio_home.topic("od_reading", "first_od_obs_time")).payload) > 0
    # auto: the IR LED is set so the REF photodiode reads about 0.1 V, within 20-80 %
    assert 20 <= float(mqtt_probe.wait_for(pio_home.topic("od_reading", "ir_led_intensity")).payload) <= 80
    # the IR LED is off between readings and after the job
    assert job.stop() == 0
    assert ground_truth(pio_home)["leds"].get("A", 0.0) == 0.0


def test_od_follows_the_culture_and_interval_is_settable(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    pio_home.write_config("[simulation]\nlag_hours=0\ninitial_temperature=37\nambient_temperature=37\n")
    job = run_job("od_reading", run_options=sim(600))
    job.wait_for_state(mqtt_probe, "ready")
    early = readings(mqtt_probe, pio_home, 3)
    true_early = ground_truth(pio_home)["od"]
    mark = mqtt_probe.mark()
    late = readings(mqtt_probe, pio_home, 150, since=mark)  # about 12 simulated minutes later
    true_late = ground_truth(pio_home)["od"]
    measured_ratio = late[-1]["ods"]["2"]["od"] / early[-1]["ods"]["2"]["od"]
    assert true_late / true_early > 1.08
    assert abs(measured_ratio / (true_late / true_early) - 1) < 0.1

    mark = mqtt_probe.mark()
    mqtt_probe.publish(pio_home.topic("od_reading", "interval", "set"), "20")
    mqtt_probe.wait_for(pio_home.topic("od_reading", "interval"), "20.0", since=mark)
    mark = mqtt_probe.mark()
    spaced = readings(mqtt_probe, pio_home, 3, since=mark)
    from datetime import datetime

    times = [datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")) for r in spaced]
    assert abs((times[2] - times[1]).total_seconds() - 20) < 2
    assert job.stop() == 0


def test_other_leds_are_off_during_a_reading(pio, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    assert pio("run", "led_intensity", "--B", "80").returncode == 0
    mark = mqtt_probe.mark()
    snapshot = pio("run", "od_reading", "--snapshot", "--ir-led-intensity", "50")
    assert snapshot.returncode == 0 and json.loads(snapshot.stdout)["ods"]["2"]["od"] > 0
    states = [json.loads(p) for p in mqtt_probe.payloads(pio_home.topic("leds", "intensity"), since=mark) if p]
    during = [s for s in states if s["A"] == 50.0]
    assert during and all(s["B"] == 0.0 for s in during)  # IR on, white light off
    assert states[-1] == {"A": 0.0, "B": 80.0, "C": 0.0, "D": 0.0}  # and back as it was
    assert ground_truth(pio_home)["leds"]["B"] == 80.0


def test_a_saturated_photodiode_stops_the_job_with_the_led_off(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    from pioreactor.kernel.plugins import load_config_with_plugins
    from pioreactor.plugins_core.simulator.world import reset_world

    load_config_with_plugins()
    reset_world(od=4.0)
    job = run_job("od_reading", "--ir-led-intensity", "100", run_options=sim(60))
    assert job.wait(20) == 1
    error = mqtt_probe.wait_for(pio_home.topic("logs", "app", "error"))
    assert "saturated" in json.loads(error.payload)["message"]
    assert ground_truth(pio_home)["leds"].get("A", 0.0) == 0.0
    job.wait_for_state(mqtt_probe, "disconnected")


def test_bad_options_are_refused(pio) -> None:  # type: ignore[no-untyped-def]
    result = pio("run", "od_reading", "--ir-led-intensity", "bright")
    assert result.returncode == 1 and "ir_led_intensity must be a percentage or auto, got 'bright'" in result.stderr
    result = pio("run", "od_reading", "--interval", "-1")
    assert result.returncode == 1 and "interval must be a positive number of seconds, got -1" in result.stderr


def test_blank_is_measured_published_and_deleted(pio, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    result = pio("run", "--config-override", "simulation", "clock_speed", "100", "od_blank", "--n-samples", "5")
    assert result.returncode == 0, result.stderr
    assert "blank OD, channel 2:" in result.stdout
    means = json.loads(mqtt_probe.wait_for(pio_home.topic("od_blank", "means")).payload)
    from pioreactor.sdk import local_persistent_storage

    with local_persistent_storage("od_blank") as store:
        assert store[pio_home.experiment] == means
    assert pio("run", "od_blank", "delete").returncode == 0
    mqtt_probe.wait_for(pio_home.topic("od_blank", "means"), "")
    with local_persistent_storage("od_blank") as store:
        assert pio_home.experiment not in store

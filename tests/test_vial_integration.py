"""Jobs together on one simulated vial: OD + growth rate, and stirring dodging OD readings."""

from __future__ import annotations

import json
from datetime import datetime

from pioreactor.sdk.testing import PioHome

SPEED = ("--config-override", "simulation", "clock_speed", "300")


def truth(home: PioHome) -> dict:  # type: ignore[type-arg]
    from pioreactor.kernel.plugins import load_config_with_plugins
    from pioreactor.plugins_core.simulator.world import ground_truth

    load_config_with_plugins()
    return ground_truth()


def test_growth_rate_within_5_percent_after_an_hour_with_outliers(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    # exponential phase at 37 °C, one outlier in 50 readings
    pio_home.write_config(
        "[simulation]\nlag_hours=0\nambient_temperature=37\ninitial_temperature=37\n"
        "initial_od=0.05\noutlier_probability=0.02\nseed=7\n"
    )
    od = run_job("od_reading", run_options=SPEED)
    od.wait_for_state(mqtt_probe, "ready")
    growth = run_job("growth_rate_calculating", "--ignore-cache", run_options=SPEED)
    growth.wait_for_state(mqtt_probe, "ready")

    topic = pio_home.topic("growth_rate_calculating", "growth_rate")
    first = json.loads(mqtt_probe.wait_for(topic, lambda p: p != "", timeout=30).payload)
    start = datetime.fromisoformat(first["timestamp"].replace("Z", "+00:00"))

    def an_hour_later(payload: str) -> bool:
        if not payload:
            return False
        stamp = datetime.fromisoformat(json.loads(payload)["timestamp"].replace("Z", "+00:00"))
        return (stamp - start).total_seconds() >= 3600

    final = json.loads(mqtt_probe.wait_for(topic, an_hour_later, timeout=60).payload)["growth_rate"]
    true_rate = truth(pio_home)["growth_rate"]
    assert abs(final - true_rate) / true_rate < 0.05, (final, true_rate)
    filtered = [json.loads(p)["od_filtered"] for p in mqtt_probe.payloads(pio_home.topic("growth_rate_calculating", "od_filtered")) if p]
    # an hour of readings every 5 s is 720; a machine at load 14 skips some (the clock waits for
    # a held-up job, but for at most RUNNING_HOLD_SECONDS of wall time), never most of them
    assert len(filtered) > 360 and min(filtered) > 0
    assert growth.stop() == 0 and od.stop() == 0


def test_stirring_dodges_od_readings(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    speed = ("--config-override", "simulation", "clock_speed", "20")
    od = run_job("od_reading", "--interval", "10", run_options=speed)
    od.wait_for_state(mqtt_probe, "ready")
    stirring = run_job("stirring", run_options=speed + ("--config-override", "stirring.config", "enable_dodging_od", "true"))
    stirring.wait_for_state(mqtt_probe, "ready")
    topic = pio_home.topic("stirring", "currently_dodging_od")
    mqtt_probe.wait_for(topic, "True", timeout=10)
    mark = mqtt_probe.mark()
    mqtt_probe.wait_for(topic, "False", since=mark, timeout=10)
    # switched off over MQTT: no more dodging
    mqtt_probe.publish(pio_home.topic("stirring", "enable_dodging_od", "set"), "false")
    mqtt_probe.wait_for(pio_home.topic("stirring", "enable_dodging_od"), "False", timeout=10)
    mark = mqtt_probe.mark()
    for _ in range(2):  # two more OD readings go by without the stirrer stopping
        seen = mqtt_probe.wait_for(pio_home.topic("od_reading", "ods"), since=mark, timeout=10)
        mark = mqtt_probe.messages.index(seen) + 1
    assert "True" not in mqtt_probe.payloads(topic, since=mark - 1)
    assert stirring.stop() == 0 and od.stop() == 0

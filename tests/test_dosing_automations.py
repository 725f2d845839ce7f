"""How dosing automations dose: sub-doses in order, and a turbidostat that outliers cannot fool.

The normalized OD is published by the test itself here (as growth_rate_calculating would), so
each reading is exactly what the test needs.
"""

from __future__ import annotations

import json
from datetime import datetime

from pioreactor.sdk.testing import JobProcess, MqttProbe, PioHome
from test_pumps import calibrate


def stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def publish_nod(probe: MqttProbe, home: PioHome, value: float, at: str | None = None) -> None:
    from pioreactor.sdk import get_clock

    reading = {"od_filtered": value, "timestamp": at or get_clock().utc_timestamp()}
    probe.publish(home.topic("growth_rate_calculating", "od_filtered"), json.dumps(reading))


def wait_for_runs(probe: MqttProbe, home: PioHome, count: int) -> None:
    """Let the automation run ``count`` more times (each run publishes ``latest_event``)."""
    index = probe.mark()
    for _ in range(count):
        seen = probe.wait_for(home.topic("dosing_automation", "latest_event"), since=index, timeout=10)
        index = probe.messages.index(seen) + 1


def dosing_events(probe: MqttProbe, home: PioHome, since: int = 0) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(p) for p in probe.payloads(home.topic("dosing_events"), since=since)]


def test_turbidostat_needs_two_readings_above_target_taken_after_the_last_dilution(
    run_job, mqtt_probe, pio_home
) -> None:  # type: ignore[no-untyped-def]
    pio_home.write_config("[simulation]\nclock_speed=60\n")
    calibrate("media", "waste")
    job: JobProcess = run_job(
        "dosing_automation",
        "--automation-name", "turbidostat",
        "--target-normalized-od", "1.5",
        "--exchange-volume-ml", "0.5",
        "--duration", "0.25",
    )  # fmt: skip
    job.wait_for_state(mqtt_probe, "ready", timeout=20)
    mark = mqtt_probe.mark()
    for value in (1.2, 2.5, 1.2):  # one outlier among readings below the target
        publish_nod(mqtt_probe, pio_home, value)
        wait_for_runs(mqtt_probe, pio_home, 2)
    assert dosing_events(mqtt_probe, pio_home, mark) == []

    publish_nod(mqtt_probe, pio_home, 1.55)
    wait_for_runs(mqtt_probe, pio_home, 2)
    assert dosing_events(mqtt_probe, pio_home, mark) == []  # one reading above: not yet
    publish_nod(mqtt_probe, pio_home, 1.56)
    event = mqtt_probe.wait_for(
        pio_home.topic("dosing_automation", "latest_event"),
        lambda p: "DilutionEvent" in p,
        since=mark,
        timeout=15,
    )
    assert json.loads(event.payload)["message"] == "Latest nOD 1.550 ≥ target 1.5; cycled 0.50 ml"
    after_dilution = mqtt_probe.mark()

    # readings from before the dilution never count again; one new reading is not enough
    publish_nod(mqtt_probe, pio_home, 1.6)
    wait_for_runs(mqtt_probe, pio_home, 3)
    assert dosing_events(mqtt_probe, pio_home, after_dilution) == []
    publish_nod(mqtt_probe, pio_home, 1.6)
    mqtt_probe.wait_for(pio_home.topic("dosing_events"), since=after_dilution, timeout=15)
    assert job.stop() == 0


def test_an_exchange_alternates_sub_doses_no_larger_than_max_subdose(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    pio_home.write_config("[simulation]\nclock_speed=60\n")
    calibrate("media", "waste")
    mark = mqtt_probe.mark()
    job = run_job(
        "dosing_automation",
        "--automation-name",
        "chemostat",
        "--exchange-volume-ml",
        "2.5",
        "--duration",
        "60",
    )
    job.wait_for_state(mqtt_probe, "ready", timeout=20)
    mqtt_probe.wait_for(
        pio_home.topic("dosing_automation", "latest_event"),
        lambda p: "DilutionEvent" in p,
        since=mark,
        timeout=20,
    )
    # the automation's event and the pumps' events travel on different topics: wait for all nine
    mqtt_probe.wait_for_count(pio_home.topic("dosing_events"), 9, since=mark, timeout=20)
    events = dosing_events(mqtt_probe, pio_home, mark)
    part = round(2.5 / 3, 6)
    assert [(e["event"], e["volume_change"]) for e in events] == [
        ("add_media", part),
        ("remove_waste", part),
        ("remove_waste", round(2 * 2.5 / 3, 6)),  # waste_removal_multiplier times more
    ] * 3
    # each addition mixes for pause_between_subdoses_seconds (5 s) before waste goes out
    times = [stamp(e["timestamp"]) for e in events]
    assert all(times[i + 1] - times[i] >= 5.0 + part for i in range(0, 9, 3))
    assert all(e["source_of_event"] == "dosing_automation:chemostat" for e in events)
    assert job.stop() == 0


def test_fed_batch_adds_until_the_vial_is_full_and_then_sleeps(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    from test_pumps import truth

    # slow pumps: each dose lasts long enough (in real time) that a late switch-off barely matters
    pio_home.write_config("[simulation]\nclock_speed=60\npump_ml_per_second=0.1\n")
    calibrate("media", flow=0.1)
    mark = mqtt_probe.mark()
    job = run_job(
        "dosing_automation",
        "--automation-name",
        "fed_batch",
        "--dosing-volume-ml",
        "1.5",
        "--duration",
        "0.5",
    )
    job.wait_for_state(mqtt_probe, "sleeping", since=mark, timeout=20)
    added = [e["volume_change"] for e in dosing_events(mqtt_probe, pio_home, mark)]
    assert set(added) == {0.75}  # 1.5 ml per run, in sub-doses of at most max_subdose
    tracked = float(mqtt_probe.payloads(pio_home.topic("dosing_automation", "current_volume_ml"))[-1])
    # it stopped at the last sub-dose that stays below max_volume_to_stop (18 ml): 14 + 5 x 0.75
    # (a dose that ran long counts for what it may have moved, which can stop it one earlier)
    assert 17.25 <= tracked < 18.0 and len(added) in (4, 5)
    vial = truth()
    assert abs(vial["volume_ml"] - tracked) < 0.25 and vial["overflowed_ml"] == 0.0
    assert job.stop() == 0


def test_pid_morbidostat_doses_alt_media_when_growing_too_fast(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    from pioreactor.sdk import get_clock

    pio_home.write_config("[simulation]\nclock_speed=60\n")
    calibrate()
    # growing faster than the target, dense enough: as growth_rate_calculating would publish it
    now = get_clock().utc_timestamp()
    readings = {
        "od_filtered": {"od_filtered": 1.1, "timestamp": now},
        "growth_rate": {"growth_rate": 0.5, "timestamp": now},
    }
    for name, reading in readings.items():
        mqtt_probe.publish(pio_home.topic("growth_rate_calculating", name), json.dumps(reading), retain=True)
    mark = mqtt_probe.mark()
    job = run_job(
        "dosing_automation",
        "--automation-name", "pid_morbidostat",
        "--target-growth-rate", "0.3",
        "--target-normalized-od", "1.0",
        "--duration", "10",
    )  # fmt: skip
    event = mqtt_probe.wait_for(
        pio_home.topic("dosing_automation", "latest_event"),
        lambda p: "AddAltMediaEvent" in p,
        since=mark,
        timeout=20,
    )
    data = json.loads(event.payload)["data"]
    # 0.3/h x 14 ml x 10/60 h = 0.7 ml exchanged, all of it alt-media (the PID's output is 1)
    assert data["pid_output"] == 1.0 and data["alt_media_ml"] == 0.7 and data["media_ml"] == 0.0
    # dosing events and the automation's event travel on different topics (and QoS): wait for the last one
    mqtt_probe.wait_for(
        pio_home.topic("dosing_events"),
        lambda p: (json.loads(p)["event"], json.loads(p)["volume_change"]) == ("remove_waste", 1.4),
        since=mark,
        timeout=20,
    )
    events = [(e["event"], e["volume_change"]) for e in dosing_events(mqtt_probe, pio_home, mark)]
    assert events == [("add_alt_media", 0.7), ("remove_waste", 0.7), ("remove_waste", 1.4)]
    fraction = mqtt_probe.payloads(pio_home.topic("dosing_automation", "alt_media_fraction"), since=mark)[-1]
    assert abs(float(fraction) - 0.7 / 14.7) < 1e-4
    assert job.stop() == 0
    for name in readings:
        mqtt_probe.publish(pio_home.topic("growth_rate_calculating", name), "", retain=True)

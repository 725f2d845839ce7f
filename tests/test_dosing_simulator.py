"""Dosing automations on the simulated vial, on a scaled clock (24 simulated hours in ~25 s).

The pumps are slow here (0.0125 ml/s, calibrated to match): at 3600x a millisecond of delay in
switching a pump off is 3.6 simulated seconds, so a slow pump keeps each dose accurate. OD is
read every 2 minutes, which keeps od_reading and the growth-rate filter light enough to keep up
with the clock. The photodiodes have no mains hum (at 3600x a reading's samples cannot be
spread over a mains period) and, for the turbidostat, no outliers: growth_rate_calculating
takes the first reading after a dose as it comes (the OD may jump then), so an outlier there
moves the published nOD; `test_dosing_plugins.py` checks that a single outlier never triggers a
dilution.
"""

from __future__ import annotations

import bisect
import json
import statistics
import time
from datetime import datetime
from typing import Any

import pytest
from pioreactor.sdk.testing import MqttProbe, PioHome
from test_pumps import calibrate

SPEED = 3600
FLOW = 0.0125  # ml/s


def stamp(payload: str) -> float:
    return datetime.fromisoformat(json.loads(payload)["timestamp"].replace("Z", "+00:00")).timestamp()


def world_config(home: PioHome, extra: str = "", **simulation: Any) -> None:
    values = {
        "clock_speed": SPEED,
        "seed": 11,
        "ambient_temperature": 37,
        "initial_temperature": 37,
        "pump_ml_per_second": FLOW,
        "mains_ripple": 0,
        **simulation,
    }
    home.write_config(
        "[simulation]\n"
        + "".join(f"{key}={value}\n" for key, value in values.items())
        + "[od_reading.config]\nsamples_per_second=0.008333333\nsamples_per_reading=8\n"
        + extra
    )
    from pioreactor.kernel.plugins import load_config_with_plugins
    from pioreactor.plugins_core.simulator.world import reset_world

    load_config_with_plugins()
    reset_world()
    calibrate(flow=FLOW)


def truth() -> dict[str, Any]:
    from pioreactor.plugins_core.simulator.world import ground_truth

    return ground_truth()


def dosing_events(probe: MqttProbe, home: PioHome, since: int = 0) -> list[dict[str, Any]]:
    return [json.loads(p) for p in probe.payloads(home.topic("dosing_events"), since=since)]


# a busy machine slows the simulated clock down (it waits for the jobs rather than distort the
# physics): the simulated day takes ~35 s on an idle machine, minutes on a loaded one
@pytest.mark.timeout(360)
def test_turbidostat_holds_the_target_nod_for_24_hours(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    # a 2.5 h doubling time; the lag lets growth_rate_calculating take its OD statistics before growth
    world_config(pio_home, lag_hours=2, doubling_time_minutes=150, initial_od=0.5, outlier_probability=0)
    target = 1.5
    od = run_job("od_reading")
    od.wait_for_state(mqtt_probe, "ready", timeout=20)
    growth = run_job("growth_rate_calculating", "--ignore-cache")
    growth.wait_for_state(mqtt_probe, "ready", timeout=20)
    start = truth()["time"]
    turbidostat = run_job(
        "dosing_automation",
        "--automation-name", "turbidostat",
        "--target-normalized-od", str(target),
        "--exchange-volume-ml", "0.75",
        "--duration", "1",
    )  # fmt: skip
    turbidostat.wait_for_state(mqtt_probe, "ready", timeout=20)

    # the true OD, every ~6 simulated minutes, until a day has passed
    from pioreactor.plugins_core.simulator.world import get_world

    true_ods: list[tuple[float, float]] = []
    with get_world() as world:
        while (now := world.ground_truth())["time"] < start + 24 * 3600:
            true_ods.append((now["time"], now["od"]))
            time.sleep(0.1)  # sampling the vial, not waiting for anything
    topic = pio_home.topic("growth_rate_calculating", "od_filtered")
    mqtt_probe.wait_for(topic, lambda p: p != "" and stamp(p) >= start + 24 * 3600, timeout=30)
    vial = truth()

    nods = [(stamp(p), json.loads(p)["od_filtered"]) for p in mqtt_probe.payloads(topic) if p]
    reached = next(t for t, nod in nods if nod >= target)
    held = [nod for t, nod in nods if t >= reached]
    # the culture itself, in nOD: its true OD times the ratio that the published nOD keeps to it
    times = [t for t, _ in true_ods]
    scale = statistics.median(
        nod / true_ods[i][1]
        for t, nod in nods
        if t >= reached and 0 < (i := bisect.bisect(times, t)) < len(times)
    )
    culture = [od * scale for t, od in true_ods if t >= reached]
    outside = [nod for nod in held if abs(nod / target - 1) > 0.10]
    dilutions = [e for e in dosing_events(mqtt_probe, pio_home) if e["event"] == "add_media"]
    print(
        f"\nturbidostat: target nOD {target} reached after {(reached - start) / 3600:.2f} h; then the culture "
        f"{min(culture) / target - 1:+.1%}..{max(culture) / target - 1:+.1%} of the target ({len(culture)} "
        f"samples); published nOD {min(held) / target - 1:+.1%}..{max(held) / target - 1:+.1%} "
        f"({len(outside)} of {len(held)} readings outside ±10 %); {len(dilutions)} dilutions, media recorded "
        f"{sum(e['volume_change'] for e in dilutions):.1f} ml, pumped {vial['media_added_ml']:.1f} ml"
    )
    assert (reached - start) / 3600 < 5
    assert len(held) > 500 and len(dilutions) > 50 and len(culture) > 150
    assert all(abs(nod / target - 1) <= 0.10 for nod in culture), (min(culture), max(culture))
    # what the automation saw: within ±10 % but for the odd reading just after a dilution, which
    # growth_rate_calculating takes as it comes (the OD is expected to jump then)
    assert len(outside) <= len(held) // 100 and all(abs(nod / target - 1) <= 0.2 for nod in held), outside
    assert vial["overflowed_ml"] == 0.0
    for job in (turbidostat, growth, od):
        assert job.stop(timeout=20) == 0, job.output()[-2000:]
    assert truth()["pumps"] == {"media": 0.0, "alt_media": 0.0, "waste": 0.0}


@pytest.mark.timeout(300)
def test_chemostat_settles_where_growth_rate_equals_the_dilution_rate(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    world_config(pio_home, lag_hours=0)
    volume, minutes = 0.5, 6.0
    dilution_rate = volume / 14.0 * 60.0 / minutes  # per hour: 0.357, below the culture's 0.55
    chemostat = run_job(
        "dosing_automation",
        "--automation-name", "chemostat",
        "--exchange-volume-ml", str(volume),
        "--duration", str(minutes),
    )  # fmt: skip
    chemostat.wait_for_state(mqtt_probe, "ready", timeout=20)
    # a fresh culture from the moment the chemostat runs (starting a process takes simulated hours)
    from pioreactor.plugins_core.simulator.world import reset_world

    start = reset_world(od=2.0)["time"]
    topic = pio_home.topic("dosing_events")
    # ~10 s on an idle machine; the clock slows down for a busy one (it waits for the jobs)
    mqtt_probe.wait_for(topic, lambda p: stamp(p) >= start + 8 * 3600, timeout=180)
    vial = truth()
    growth_rate = vial["growth_rate"]
    exchanges = [
        e
        for e in dosing_events(mqtt_probe, pio_home)
        if e["event"] == "add_media" and stamp(json.dumps(e)) >= start
    ]
    error = growth_rate / dilution_rate - 1
    print(
        f"\nchemostat: dilution rate {dilution_rate:.3f}/h, true growth rate after 8 h {growth_rate:.3f}/h "
        f"({error:+.1%}), OD {vial['od']:.3f}; {len(exchanges)} exchanges, media recorded "
        f"{sum(e['volume_change'] for e in exchanges):.1f} ml, pumped {vial['media_added_ml']:.1f} ml"
    )
    assert abs(error) < 0.10
    # at the efflux tube, or above it by at most an exchange in progress
    assert vial["overflowed_ml"] == 0.0 and 13.99 < vial["volume_ml"] < 14.0 + volume + 0.3
    # what the job published about the liquid (its throughput may arrive just after the last dose's event)
    mqtt_probe.wait_for(
        pio_home.topic("dosing_automation", "media_throughput"),
        lambda p: p != "" and float(p) >= volume * len(exchanges) - 1e-9,
    )
    settings = {
        name: float(mqtt_probe.payloads(pio_home.topic("dosing_automation", name))[-1])
        for name in ("current_volume_ml", "media_throughput", "alt_media_fraction")
    }
    assert 14.0 <= settings["current_volume_ml"] < 14.0 + volume + 0.3
    assert settings["alt_media_fraction"] == 0.0
    # counted as pumped: a dose that ran long (a held-up process) counts for what it could have pumped
    assert volume * len(exchanges) <= settings["media_throughput"] <= 1.3 * volume * (len(exchanges) + 2)
    assert chemostat.stop(timeout=20) == 0


def test_a_failing_waste_pump_stops_the_dosing_before_the_vial_overflows(
    run_job, mqtt_probe, pio_home
) -> None:  # type: ignore[no-untyped-def]
    world_config(pio_home, clock_speed=600, lag_hours=0)
    plugins = pio_home.path / "plugins"
    plugins.mkdir()
    (plugins / "blocked_waste_line.py").write_text(
        "from pioreactor.sdk import hookimpl\n\n\n"
        "@hookimpl\n"
        "def pioreactor_before_dose(dose):\n"
        "    if dose.pump == 'waste':\n"
        "        dose.veto('the waste line is blocked')\n"
    )
    mark = mqtt_probe.mark()
    chemostat = run_job(
        "dosing_automation", "--automation-name", "chemostat", "--exchange-volume-ml", "1", "--duration", "1"
    )
    chemostat.wait_for_state(mqtt_probe, "ready", timeout=20)
    chemostat.wait_for_state(mqtt_probe, "sleeping", since=mark, timeout=20)
    vial = truth()
    errors = [
        json.loads(p)["message"]
        for p in mqtt_probe.payloads(pio_home.topic("logs", "app", "error"), since=mark)
    ]
    warnings = [
        json.loads(p)["message"]
        for p in mqtt_probe.payloads(pio_home.topic("logs", "app", "warning"), since=mark)
    ]
    assert any("the waste line is blocked" in m for m in errors)
    assert any("max_volume_to_stop" in m and "sleeps" in m for m in errors)
    assert any("90 %" in m or "is the waste pump working" in m for m in warnings)
    assert vial["overflowed_ml"] == 0.0
    assert 16.9 < vial["volume_ml"] < 18.0  # three 1-ml additions, none removed, the fourth refused
    published = mqtt_probe.payloads(pio_home.topic("dosing_automation", "current_volume_ml"), since=mark)
    assert abs(float(published[-1]) - vial["volume_ml"]) < 0.1
    assert {e["event"] for e in dosing_events(mqtt_probe, pio_home, mark)} == {"add_media"}
    # asleep, it doses nothing more
    later = truth()["time"] + 5 * 60
    with_more_time = mqtt_probe.mark()
    from pioreactor.plugins_core.simulator.world import get_world

    with get_world() as world:
        while world.ground_truth()["time"] < later:
            time.sleep(0.05)  # letting simulated time pass
    assert dosing_events(mqtt_probe, pio_home, with_more_time) == []
    assert chemostat.stop(timeout=20) == 0

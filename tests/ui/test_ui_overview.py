"""The Overview page: charts from the history and live from MQTT, the event log."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect


def test_overview_opens_with_charts_and_no_failed_call(ui_server: Any, ui_page: Any) -> None:
    ui = ui_page(ui_server.url)
    page = ui.goto("/overview")
    page.get_by_role("heading", name=ui_server.experiment).wait_for()
    page.locator("figure[data-chart='normalized_optical_density'][data-loading='0']").wait_for()
    page.get_by_role("heading", name="Event logs").wait_for()
    assert page.locator("main[data-page='/overview']").count() == 1


def test_live_points_reach_a_chart(ui_server: Any, ui_page: Any, mqtt_probe: Any) -> None:
    ui = ui_page(ui_server.url)
    page = ui.goto("/overview")
    chart = page.locator("figure[data-chart='normalized_optical_density']")
    chart.locator("xpath=self::*[@data-loading='0']").wait_for()
    ui.wait_until_live()
    topic = f"pioreactor/{ui_server.unit}/{ui_server.experiment}/growth_rate_calculating/od_filtered"
    # a second apart: the browser keeps milliseconds, and a point no later than the last is a repeat
    start = datetime.now(UTC)
    for i, value in enumerate((1.0, 1.1, 1.2)):
        stamp = (start + timedelta(seconds=i)).isoformat()
        mqtt_probe.publish(topic, json.dumps({"od_filtered": value, "timestamp": stamp}))
    ui.wait_for_live_points("normalized_optical_density", 3)
    # the legend names the unit that sent them
    assert ui_server.unit in chart.locator(".u-legend").inner_text()


def test_led_changes_reach_the_led_chart_one_series_per_channel(ui_server: Any, ui_page: Any, mqtt_probe: Any) -> None:
    ui = ui_page(ui_server.url)
    page = ui.goto("/overview")
    chart = page.locator("figure[data-chart='led_intensities']")
    chart.locator("xpath=self::*[@data-loading='0']").wait_for()
    ui.wait_until_live()
    topic = f"pioreactor/{ui_server.unit}/{ui_server.experiment}/led_change_events"
    for channel, intensity in (("B", 40.0), ("C", 15.0)):
        event = {"channel": channel, "intensity": intensity, "source_of_event": "test", "timestamp": datetime.now(UTC).isoformat()}
        mqtt_probe.publish(topic, json.dumps(event))
    ui.wait_for_live_points("led_intensities", 2)
    legend = chart.locator(".u-legend").inner_text()
    assert f"{ui_server.unit} (B)" in legend and f"{ui_server.unit} (C)" in legend


def test_the_experiments_charts_are_chosen_and_kept(ui_server: Any, ui_page: Any) -> None:
    ui = ui_page(ui_server.url)
    page = ui.goto("/overview")
    page.locator("figure[data-chart='temperature']").wait_for()
    page.get_by_role("button", name="Charts…").click()
    dialog = page.get_by_role("dialog", name="Charts of this experiment")
    dialog.get_by_label("Temperature").uncheck()
    dialog.get_by_role("button", name="Save").click()
    page.locator("figure[data-chart='temperature']").wait_for(state="detached")
    preferences = ui_server.server.get(f"/api/experiments/{ui_server.experiment}/chart_preferences").json()
    assert "temperature" not in preferences["overview_chart_keys"]
    assert "optical_density" in preferences["overview_chart_keys"]


def test_doses_show_on_the_dosing_events_chart_one_series_per_event(
    ui_server: Any, ui_page: Any, mqtt_probe: Any, run_job: Any, pio: Any
) -> None:
    unit, experiment = ui_server.unit, ui_server.experiment
    # history: real doses on the simulator, stored by the streamer
    calibrate_pumps("media", "waste")
    run_job("mqtt_to_db_streaming")
    mqtt_probe.wait_for(f"pioreactor/{unit}/$experiment/mqtt_to_db_streaming/$state", "ready")
    for action in ("add_media", "remove_waste"):
        done = pio("run", action, "--ml", "0.5")
        assert done.returncode == 0, done.stderr
    history = f"/api/experiments/{experiment}/time_series/dosing_events/volume_change_ml?lookback=1"
    expected = {"series": [f"{unit}-add_media", f"{unit}-remove_waste"], "ys": [[0.5], [0.5]]}

    def stored() -> dict[str, Any]:
        answer = ui_server.server.get(history).json()
        return {"series": answer["series"], "ys": [[p["y"] for p in points] for points in answer["data"]]}

    deadline = time.monotonic() + 20
    while stored() != expected and time.monotonic() < deadline:
        time.sleep(0.2)  # the streamer writes in batches: poll the API until both doses are there
    assert stored() == expected

    ui = ui_page(ui_server.url)
    page = ui.goto("/overview")
    chart = page.locator("figure[data-chart='dosing_events']")
    chart.locator("xpath=self::*[@data-loading='0'][@data-points='2']").wait_for()
    expect(chart.locator(".u-legend")).to_contain_text(f"{unit} (add_media)")
    expect(chart.locator(".u-legend")).to_contain_text(f"{unit} (remove_waste)")

    # live: the dose joins its unit and event's series, a new event gets its own
    ui.wait_until_live()
    start = datetime.now(UTC) + timedelta(seconds=1)
    for i, (event, volume) in enumerate((("add_alt_media", 0.75), ("add_media", 1.25))):
        dose = {"volume_change": volume, "event": event, "source_of_event": "test", "timestamp": (start + timedelta(seconds=i)).isoformat()}
        mqtt_probe.publish(f"pioreactor/{unit}/{experiment}/dosing_events", json.dumps(dose))
    ui.wait_for_live_points("dosing_events", 2)
    expect(chart.locator(".u-legend")).to_contain_text(f"{unit} (add_alt_media)")
    expect(chart).to_have_attribute("data-points", "4")
    legend = chart.locator(".u-legend").inner_text()
    assert legend.count(f"{unit} (add_media)") == 1  # the live dose joined the stored series


def calibrate_pumps(*pumps: str) -> None:
    """Active calibrations matching the simulator's pumps (1 ml/s), so ``--ml`` doses run."""
    from pioreactor.plugins_core.calibrations.api import (
        PolyFit,
        PumpCalibration,
        RecordedData,
        save_calibration,
        set_active_calibration,
    )

    for pump in pumps:
        seconds = [0.5, 1.0, 2.0]
        calibration = PumpCalibration(
            calibration_name=f"simulated-{pump}",
            calibrated_on_pioreactor_unit="test",
            created_at=datetime.now(UTC),
            curve_data_=PolyFit([1.0, 0.0]),
            recorded_data=RecordedData(x=seconds, y=seconds),
            dc=100.0,
        )
        save_calibration(f"{pump}_pump", calibration)
        set_active_calibration(f"{pump}_pump", calibration.calibration_name)


def test_an_led_set_before_the_time_range_shows_from_its_start(ui_server: Any, ui_page: Any) -> None:
    from pioreactor.sdk.database import canonical_timestamp, open_database

    conn = open_database()  # the leader's database, as the web server reads it
    try:
        conn.execute(
            "INSERT INTO led_change_events (experiment, pioreactor_unit, timestamp, channel, intensity, source_of_event) "
            "VALUES (?, ?, ?, 'B', 35.0, 'test')",
            (ui_server.experiment, ui_server.unit, canonical_timestamp(datetime.now(UTC) - timedelta(hours=20))),
        )
    finally:
        conn.close()
    ui = ui_page(ui_server.url)
    page = ui.goto("/overview")  # the past 12 hours: the LED was set 20 hours ago
    chart = page.locator("figure[data-chart='led_intensities'][data-loading='0']")
    chart.wait_for()
    assert chart.get_attribute("data-points") == "1"
    assert f"{ui_server.unit} (B)" in chart.locator(".u-legend").inner_text()

"""The Overview page: charts from the history and live from MQTT, the event log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any


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

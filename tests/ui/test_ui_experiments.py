"""Experiments: create, switch (nothing of the previous experiment stays on screen), label, delete."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from playwright.sync_api import expect


def test_create_switch_label_and_delete(ui_server: Any, ui_page: Any) -> None:
    ui = ui_page(ui_server.url)
    page = ui.goto("/experiments")
    form = page.get_by_role("form", name="New experiment")
    form.get_by_label("Name").fill("second-run")
    form.get_by_label("Description").fill("the second one")
    form.get_by_role("button", name="Create and switch to it").click()
    page.get_by_role("heading", name="Current: second-run").wait_for()
    expect(page.get_by_label("Experiment", exact=True)).to_have_value("second-run")

    # back to the first, label its unit
    page.get_by_role("button", name=f"Switch to {ui_server.experiment}").click()
    page.get_by_role("heading", name=f"Current: {ui_server.experiment}").wait_for()
    page.get_by_label(f"Label of {ui_server.unit}").fill("control")
    page.get_by_role("button", name="Save label").click()
    page.get_by_text("Saved.").wait_for()
    ui.goto("/pioreactors").get_by_role("link", name=f"control ({ui_server.unit})").wait_for()

    # delete the second one, with its name typed as confirmation
    page.get_by_label("Experiment", exact=True).select_option("second-run")
    ui.goto("/experiments")
    page.get_by_role("heading", name="Current: second-run").wait_for()
    page.get_by_role("button", name="Delete…").click()
    dialog = page.get_by_role("dialog", name="Delete second-run?")
    assert dialog.get_by_role("button", name="Delete experiment").is_disabled()
    dialog.get_by_label("Experiment name").fill("second-run")
    dialog.get_by_role("button", name="Delete experiment").click()
    page.get_by_role("heading", name=f"Current: {ui_server.experiment}").wait_for()
    assert page.locator("tr[data-experiment='second-run']").count() == 0


def test_switching_experiments_drops_the_previous_ones_data(ui_server: Any, ui_page: Any, mqtt_probe: Any) -> None:
    created = ui_server.server.post("/api/experiments", json={"experiment": "other"})
    assert created.status == 201
    ui = ui_page(ui_server.url, storage=False)  # and without localStorage (upstream #560)
    page = ui.goto("/overview")
    page.get_by_label("Experiment", exact=True).select_option(ui_server.experiment)
    page.get_by_role("heading", name=ui_server.experiment, exact=True).wait_for()  # the page of the chosen one
    chart = "figure[data-chart='normalized_optical_density']"
    page.locator(f"{chart}[data-loading='0']").wait_for()
    ui.wait_until_live()
    topic = f"pioreactor/{ui_server.unit}/{ui_server.experiment}/growth_rate_calculating/od_filtered"
    mqtt_probe.publish(topic, json.dumps({"od_filtered": 1.5, "timestamp": datetime.now(UTC).isoformat()}))
    ui.wait_for_live_points("normalized_optical_density", 1)

    page.get_by_label("Experiment", exact=True).select_option("other")
    page.get_by_role("heading", name="other", exact=True).wait_for()
    page.locator(f"{chart}[data-loading='0'][data-points='0']").wait_for()
    # a point of the previous experiment does not reach the new one's charts
    mqtt_probe.publish(topic, json.dumps({"od_filtered": 1.6, "timestamp": datetime.now(UTC).isoformat()}))
    page.get_by_text("No data yet").first.wait_for()
    assert page.locator(f"{chart}").get_attribute("data-points") == "0"

"""The Pioreactors page: a card per unit, live; the Manage dialog starts, changes and stops jobs."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import expect


def test_start_stirring_from_manage_then_change_its_target(ui_server: Any, ui_page: Any, mqtt_probe: Any) -> None:
    ui = ui_page(ui_server.url)
    page = ui.goto("/pioreactors")
    card = page.locator(f".unit-card[data-unit='{ui_server.unit}']")
    card.locator(".job-row[data-job='stirring'][data-state='off']").wait_for()
    ui.wait_until_live()

    card.get_by_role("button", name="Manage").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Start Stirring").click()
    form = dialog.get_by_role("form", name="Start Stirring")
    form.get_by_label("Target rpm").fill("300")
    form.get_by_role("button", name="Start").click()

    # the card (behind the dialog) and the dialog follow the job's $state from MQTT
    card.locator(".job-row[data-job='stirring'][data-state='ready']").wait_for()
    dialog.locator(".job-row[data-job='stirring'] .badge", has_text="ready").wait_for()
    rpm = card.locator(".job-row[data-job='stirring'] [data-setting='target_rpm']")
    rpm.get_by_text("300").wait_for()

    dialog.get_by_role("tab", name="Settings").click()
    dialog.get_by_label("Stirring: Target RPM").fill("450")
    since = mqtt_probe.mark()
    dialog.get_by_role("button", name="Update").first.click()
    mqtt_probe.wait_for(f"pioreactor/{ui_server.unit}/{ui_server.experiment}/stirring/target_rpm", "450.0", since=since)
    dialog.get_by_text("Saved.").wait_for()
    rpm.get_by_text("450").wait_for()

    dialog.get_by_role("tab", name="Activities").click()
    dialog.get_by_role("button", name="Stop Stirring").click()
    card.locator(".job-row[data-job='stirring'][data-state='disconnected']").wait_for()


def test_a_refused_start_is_shown_in_the_dialog(ui_server: Any, ui_page: Any) -> None:
    ui = ui_page(ui_server.url)
    ui.expect_failure("/unit_api/task_results/")  # the task reports the job's own error
    page = ui.goto("/pioreactors")
    page.get_by_role("button", name="Manage").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Start Stirring").click()
    form = dialog.get_by_role("form", name="Start Stirring")
    form.get_by_label("Target rpm").fill("not-a-number")
    form.get_by_role("button", name="Start").click()
    alert = dialog.get_by_role("alert")
    alert.wait_for()
    assert "did not start" in alert.inner_text()


def test_an_automation_starts_with_its_options_filled_in(ui_server: Any, ui_page: Any, mqtt_probe: Any) -> None:
    ui = ui_page(ui_server.url)
    page = ui.goto("/pioreactors")
    card = page.locator(f".unit-card[data-unit='{ui_server.unit}']")
    card.locator(".job-row[data-job='temperature_automation']").wait_for()
    ui.wait_until_live()
    assert card.get_by_text("LED automation").count() == 1  # acronyms kept, not "Led automation"

    card.get_by_role("button", name="Manage").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Start Temperature automation").click()
    form = dialog.get_by_role("form", name="Start Temperature automation")
    form.get_by_role("combobox", name="Automation").first.select_option("thermostat")  # its name includes the chosen one
    target = form.get_by_label("Target temperature")
    # the automation's own option, with its default, in a number box (not a bare "default" box)
    expect(target).to_have_value("30")
    expect(target).to_have_attribute("type", "number")
    target.fill("33")
    since = mqtt_probe.mark()
    form.get_by_role("button", name="Start").click()
    topic = f"pioreactor/{ui_server.unit}/{ui_server.experiment}/temperature_automation/target_temperature"
    mqtt_probe.wait_for(topic, "33.0", since=since)
    card.locator(".job-row[data-job='temperature_automation'][data-state='ready']").wait_for()

    dialog.get_by_role("button", name="Stop Temperature automation").click()
    card.locator(".job-row[data-job='temperature_automation'][data-state='disconnected']").wait_for()


def test_circulating_from_the_dosing_tab_is_recorded_as_the_uis(ui_server: Any, ui_page: Any, mqtt_probe: Any) -> None:
    ui = ui_page(ui_server.url)
    page = ui.goto("/pioreactors")
    card = page.locator(f".unit-card[data-unit='{ui_server.unit}']")
    card.get_by_role("button", name="Manage").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("tab", name="Dosing").click()
    since = mqtt_probe.mark()
    dialog.get_by_label("Circulate media (seconds)").fill("1")
    dialog.get_by_label("Circulate media (seconds)").press("Enter")
    dialog.get_by_text("Circulate media: 1 seconds started.").wait_for()
    # the circulation is recorded as the UI's
    topic = f"pioreactor/{ui_server.unit}/{ui_server.experiment}/dosing_events"
    event = mqtt_probe.wait_for(topic, lambda p: json.loads(p)["event"] == "circulate_media", since=since)
    assert json.loads(event.payload)["source_of_event"] == "UI"

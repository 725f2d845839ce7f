"""A unit's page: its vial, jobs, charts and logs."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect


def test_unit_page_shows_the_vial_jobs_and_logs(ui_server: Any, ui_page: Any) -> None:
    ui = ui_page(ui_server.url)
    page = ui.goto(f"/pioreactors/{ui_server.unit}")
    page.get_by_role("heading", name=ui_server.unit, exact=True).wait_for()
    vial = page.locator("figure.vial")
    expect(vial).to_contain_text("14.0 ml")  # [bioreactor] initial_volume_ml, until dosing publishes
    page.locator(f".unit-card[data-unit='{ui_server.unit}'] .job-row[data-job='stirring']").wait_for()
    page.get_by_role("heading", name="Logs").wait_for()
    page.locator("figure[data-chart='temperature'][data-loading='0']").wait_for()

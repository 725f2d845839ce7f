"""Calibrations: listed per unit and device, the curve plotted, set active."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import expect

CALIBRATION = """\
calibration_type: simple_peristaltic_pump
calibration_name: pump_cal
calibrated_on_pioreactor_unit: {unit}
created_at: 2026-01-01T00:00:00Z
curve_data_:
  type: poly
  coefficients: [0.1, 0.0]
recorded_data:
  x: [1.0, 2.0, 3.0]
  y: [0.1, 0.2, 0.3]
x: duration
y: volume
hz: 200.0
dc: 60.0
voltage: -1.0
"""


def test_a_calibration_is_plotted_and_set_active(ui_server: Any, ui_page: Any) -> None:
    saved = ui_server.server.post(
        "/unit_api/calibrations/media_pump", json={"calibration_data": CALIBRATION.format(unit=ui_server.unit)}
    )
    assert saved.status < 300, saved.text
    ui = ui_page(ui_server.url)
    page = ui.goto("/calibrations")
    row = page.locator(f"tr[data-calibration='{ui_server.unit}/media_pump/pump_cal']")
    row.get_by_role("button", name="pump_cal", exact=True).click()
    page.get_by_role("img", name="volume against duration").wait_for()
    row.get_by_role("button", name="Set pump_cal active").click()
    row.get_by_role("button", name="Set pump_cal inactive").wait_for()
    active = json.loads(ui_server.server.get("/unit_api/active_calibrations").text)
    assert "pump_cal" in json.dumps(active)


def test_a_worker_that_does_not_answer_is_a_row_saying_why(ui_server: Any, ui_page: Any) -> None:
    ui_server.add_silent_worker("ghost")
    ui = ui_page(ui_server.url)
    page = ui.goto("/calibrations")
    row = page.locator("tr", has=page.get_by_role("cell", name="ghost", exact=True))
    expect(row).to_contain_text("ghost")
    text = row.inner_text()
    assert "127.0.0.1" in text and "object" not in text  # the reason, as words

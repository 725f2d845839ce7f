"""Screenshots of every page of the web UI into docs/ui/*.png (shown by docs/ui.md).

    .venv/bin/python scripts/ui_screenshots.py [--out docs/ui]

A throw-away leader (``scripts/ui_sandbox.py``: its own broker, database and web server) with
three units and a day of readings; unit1 runs real simulated jobs so cards and charts are live.
Headless Chromium is Debian's (``make chromium``), driven by Playwright. Every process started
is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pioreactor.plugins_core.web.testing import CHROMIUM, launch_chromium

sys.path.insert(0, str(Path(__file__).parent))
from ui_sandbox import EXPERIMENT, join_seeded_to_live, sandbox  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = """\
calibration_type: simple_peristaltic_pump
calibration_name: media_pump_2026
calibrated_on_pioreactor_unit: unit1
created_at: 2026-11-20T10:00:00Z
curve_data_:
  type: poly
  coefficients: [0.081, 0.012]
recorded_data:
  x: [1.0, 2.0, 4.0, 6.0, 8.0, 10.0]
  y: [0.09, 0.17, 0.34, 0.50, 0.66, 0.82]
x: duration
y: volume
hz: 200.0
dc: 60.0
voltage: -1.0
"""
BROKEN_PROFILE = """experiment_profile_name: warm then stir
common:
  jobs:
    temperature_automation:
      actions:
        - type: start
          hours_elapsed: 0.0
          options:
            automation_name: thermostat
            target_temperature: 30
    stirring:
      actions:
        - type: strat
          hours_elapsed: 0.5
"""


def shoot(page: Any, out: Path, name: str, full: bool = False) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(out / f"{name}.png"), full_page=full)
    print(f"  {name}.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "ui")
    parser.add_argument("--chromium", default=CHROMIUM)
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with sandbox(units=3, hours=24, every_s=60) as box:
        base = box.base
        seeded_until = datetime.now(UTC)
        box.call("POST", "/unit_api/calibrations/media_pump", {"calibration_data": CALIBRATION, "set_as_active": True})
        for job, opts in (
            ("monitor", {}),
            ("stirring", {"target_rpm": 450}),
            ("od_reading", {}),
            ("growth_rate_calculating", {}),
            ("temperature_automation", {"automation_name": "thermostat", "target_temperature": 30}),
        ):
            box.call("PATCH", f"/api/workers/{box.unit}/jobs/run/job_name/{job}/experiments/{EXPERIMENT}", {"options": opts})
        # unit1's live readings continue its seeded history rather than jumping from it
        join_seeded_to_live(box.home, box.unit, seeded_until)
        box.call("PUT", f"/api/experiments/{EXPERIMENT}/unit_labels", {"unit": "unit2", "label": "control"})
        box.call("POST", f"/api/workers/{box.unit}/experiments/{EXPERIMENT}/logs", {"message": "Added 1 ml antifoam", "level": "INFO"})
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright, options.chromium)
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
            page = context.new_page()
            page.goto(base + "/overview")
            page.locator("figure[data-chart][data-loading='0']").first.wait_for(timeout=30_000)
            page.wait_for_timeout(4000)  # a few live points arrive
            shoot(page, options.out, "overview")
            for path, name in (
                ("/pioreactors", "pioreactors"),
                (f"/pioreactors/{box.unit}", "unit"),
                ("/experiments", "experiments"),
                ("/experiment-profiles", "profiles"),
                ("/export-data", "export"),
                ("/calibrations", "calibrations"),
                ("/logs", "logs"),
                ("/config", "config"),
                ("/plugins", "plugins"),
                ("/inventory", "inventory"),
            ):
                page.goto(base + path)
                page.locator("main[data-page]").wait_for()
                if name == "export":
                    page.get_by_role("checkbox", name="Growth rates").check()
                    page.get_by_role("button", name="Preview Growth rates").click()
                    page.get_by_role("heading", name="Preview: growth_rates").wait_for()
                if name == "calibrations":
                    page.get_by_role("button", name="media_pump_2026", exact=True).click()
                shoot(page, options.out, name)
            # the Manage dialog and the profile editor with a mistake
            page.goto(base + "/pioreactors")
            page.get_by_role("button", name=f"Manage {box.unit}").click()
            page.get_by_role("dialog").get_by_role("button", name="Start Dosing automation").click()
            start = page.get_by_role("form", name="Start Dosing automation")
            start.get_by_role("combobox", name="Automation").first.select_option("turbidostat")
            start.get_by_label("Exchange volume").fill("1.0")
            page.wait_for_timeout(500)
            shoot(page, options.out, "manage")
            page.goto(base + "/experiment-profiles/new")
            page.get_by_label("Profile YAML").fill(BROKEN_PROFILE)
            page.locator(".problems li").first.wait_for()
            shoot(page, options.out, "profile-editor")
            tablet = browser.new_context(viewport={"width": 820, "height": 1180}).new_page()
            tablet.goto(base + "/pioreactors")
            tablet.locator(".unit-card").first.wait_for()
            shoot(tablet, options.out, "tablet")
            browser.close()
    print(json.dumps({"written": str(options.out)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

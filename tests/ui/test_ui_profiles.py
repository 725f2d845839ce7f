"""Experiment profiles: the editor marks a mistake at its line as you type; save, run, stop."""

from __future__ import annotations

from typing import Any

GOOD = """experiment_profile_name: stir a bit
common:
  jobs:
    stirring:
      actions:
        - type: start
          hours_elapsed: 0.0
        - type: stop
          hours_elapsed: 1.0
"""


def test_a_mistake_is_marked_at_its_line_and_the_fixed_profile_saves(ui_server: Any, ui_page: Any) -> None:
    ui = ui_page(ui_server.url)
    page = ui.goto("/experiment-profiles/new")
    editor = page.get_by_label("Profile YAML")
    editor.fill(GOOD.replace("type: start", "type: strat"))
    problem = page.locator(".problems li[data-line='6']")
    problem.wait_for()
    assert "Line 6, column 17" in problem.inner_text()
    assert "unknown action type 'strat'" in problem.inner_text()
    assert page.locator(".gutter .bad").inner_text().strip() == "6"
    assert editor.get_attribute("aria-invalid") == "true"

    editor.fill(GOOD)
    page.locator("#profile-check[data-check='ok']").wait_for()
    page.get_by_label("File name").fill("stir.yaml")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Edit stir.yaml").wait_for()
    assert ui_server.server.get("/api/experiment_profiles/stir.yaml").text == GOOD


def test_run_a_profile_and_stop_it(ui_server: Any, ui_page: Any, pio_home: Any) -> None:
    (pio_home.path / "experiment_profiles").mkdir(exist_ok=True)
    (pio_home.path / "experiment_profiles" / "stir.yaml").write_text(GOOD)
    ui = ui_page(ui_server.url)
    page = ui.goto("/experiment-profiles")
    page.get_by_role("button", name="Run stir.yaml").click()
    running = page.locator("[data-running='stir.yaml']")
    running.wait_for()
    running.get_by_role("progressbar", name="Progress").wait_for()
    running.get_by_role("button", name="Stop stir a bit").click()
    page.get_by_text("No profile is running.").wait_for()

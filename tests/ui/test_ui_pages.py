"""Every page opens with its heading, no script error and no failed API call; on a tablet too."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

# (path, heading); "{unit}" and "{experiment}" are the test's
PAGES = [
    ("/", "{experiment}"),
    ("/overview", "{experiment}"),
    ("/pioreactors", "Pioreactors"),
    ("/pioreactors/{unit}", "{unit}"),
    ("/experiments", "Experiments"),
    ("/experiment-profiles", "Experiment profiles"),
    ("/experiment-profiles/new", "New profile"),
    ("/export-data", "Export data"),
    ("/calibrations", "Calibrations"),
    ("/logs", "Logs"),
    ("/config", "Configuration"),
    ("/plugins", "Plugins"),
    ("/inventory", "Inventory"),
]


def test_every_page_opens_cleanly(ui_server: Any, ui_page: Any) -> None:
    ui = ui_page(ui_server.url)
    for path, heading in PAGES:
        page = ui.goto(path.format(unit=ui_server.unit))
        page.get_by_role("heading", name=heading.format(unit=ui_server.unit, experiment=ui_server.experiment), exact=True).first.wait_for()
        # let the page's own calls finish (a failed one is reported by the fixture)
        page.wait_for_load_state("networkidle")
    assert ui.api_calls > 30


def test_navigation_by_the_side_menu_on_a_tablet(ui_server: Any, ui_page: Any) -> None:
    ui = ui_page(ui_server.url, viewport=(800, 1100))
    page = ui.goto("/overview")
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Pioreactors").click()
    page.get_by_role("heading", name="Pioreactors", exact=True).wait_for()
    assert page.url.endswith("/pioreactors")
    # the page fits the tablet's width: nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_an_unknown_path_says_so(ui_server: Any, ui_page: Any) -> None:
    ui = ui_page(ui_server.url)
    page = ui.goto("/no/such/page")
    page.get_by_role("heading", name="Not found").wait_for()


def test_a_broken_config_is_refused_with_its_problem(ui_server: Any, ui_page: Any) -> None:
    ui = ui_page(ui_server.url)
    ui.expect_failure("PUT /api/config/shared")
    page = ui.goto("/config")
    editor = page.get_by_label("Contents")
    editor.wait_for()
    page.locator("main[data-page='/config'] textarea").fill("[mqtt\nbroker_address=localhost\n")
    page.get_by_role("button", name="Save").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Not saved" in alert.inner_text()


def test_a_workers_unit_config_is_saved_and_an_unreachable_worker_named(ui_server: Any, ui_page: Any) -> None:
    ui_server.add_silent_worker("ghost")
    ui = ui_page(ui_server.url)
    page = ui.goto("/config")
    page.get_by_label("File").select_option("ghost")
    page.get_by_role("heading", name="unit_config.ini of ghost").wait_for()
    page.get_by_label("Contents").fill("[stirring.config]\npwm_hz = 90\n")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("not delivered to ghost")
    copy = ui_server.server.get("/api/config/units/ghost/specific")
    assert copy.text == "[stirring.config]\npwm_hz = 90\n"  # the leader's copy, for `pios sync-configs`

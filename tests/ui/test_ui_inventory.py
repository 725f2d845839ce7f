"""The Inventory page finds units on the network (mDNS) and adds one with a click."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from pioreactor.plugins_core.web.testing import start_web_server
from pioreactor.sdk.testing import PioHome, start_job


def test_a_unit_found_on_the_network_is_added(ui_server: Any, ui_page: Any, pio_home: PioHome, tmp_path: Path) -> None:
    new = PioHome(tmp_path / "new", f"{pio_home.unit}-new", pio_home.experiment, pio_home.broker)
    new.path.mkdir()
    new.write_config(f"[mdns]\nadvertise=1\n\n[cluster]\nleader_hostname={pio_home.unit}\n")
    server = start_web_server(partial(start_job, new))
    try:
        ui = ui_page(ui_server.url)
        page = ui.goto("/inventory")
        found = page.locator(f"li[data-unit='{new.unit}']")
        nothing = page.get_by_text("No unit outside the inventory answered")
        for _ in range(4):  # a unit probes its name on the network for a second or two before it answers
            page.get_by_role("button", name="Find workers on the network").click()
            page.get_by_role("button", name="Looking for 3 s…").wait_for()  # the search takes 3 s
            found.or_(nothing).first.wait_for()  # and has ended
            if found.count():
                break
        assert f":{server.port}" in found.inner_text()
        found.get_by_role("button", name=f"Add {new.unit}").click()
        page.locator(f"section.card[data-unit='{new.unit}']").wait_for()  # its card in the inventory
        assert [w["pioreactor_unit"] for w in ui_server.server.get("/api/workers").json()] == [new.unit]
    finally:
        server.stop()

"""Export data: choose a dataset, preview it, export; the zip downloads."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from typing import Any


def test_an_export_downloads_a_zip_with_the_dataset(ui_server: Any, ui_page: Any, tmp_path: Any) -> None:
    from pioreactor.sdk.database import canonical_timestamp, open_database

    conn = open_database()
    conn.execute(
        "INSERT INTO growth_rates VALUES (?, ?, ?, ?)",
        (ui_server.experiment, ui_server.unit, canonical_timestamp(datetime.now(UTC)), 0.42),
    )
    conn.commit()
    conn.close()

    ui = ui_page(ui_server.url)
    page = ui.goto("/export-data")
    page.get_by_role("checkbox", name="Growth rates").check()
    page.get_by_role("button", name="Preview Growth rates").click()
    page.get_by_role("heading", name="Preview: growth_rates").wait_for()
    page.get_by_role("cell", name="0.42").wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export 1 dataset").click()
    target = tmp_path / "export.zip"
    download.value.save_as(target)
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        assert any("growth_rates" in name for name in names), names
        text = "".join(archive.read(n).decode() for n in names if n.endswith(".csv"))
    assert "0.42" in text

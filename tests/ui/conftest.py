"""End-to-end tests of the web UI: headless Chromium (Debian's ``chromium``, driven by
Playwright) against the real web server, broker and simulated units of each test's PIO_HOME.

One browser for the session, a fresh context (no cookies, no storage) and page per test. Every
test fails if the page logged a script error or an API call failed, unless the test says it
expected that call to fail (``ui.expect_failure("/api/...")``). All these tests carry the ``ui``
marker: ``pytest -m ui`` runs them alone, ``-m "not ui"`` skips them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pioreactor.plugins_core.web.testing import CHROMIUM, launch_chromium
from pioreactor.sdk.testing import free_port
from playwright.sync_api import expect

BUILT_UI = Path(__file__).parent.parent.parent / "plugins_core" / "web" / "ui_dist" / "index.html"
TIMEOUT_MS = 20_000
# what a page shows may come a render (or an API answer) later: expect() retries for this long
expect.set_options(timeout=TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.ui)


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    if not BUILT_UI.is_file():
        pytest.fail("the web UI is not built: run `make ui` (npm ci && npm run build in ui/)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make chromium` installs Debian's package")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the dev extras)")
    # Playwright gives the browser a fresh, empty profile folder of its own
    with playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@dataclass
class UiPage:
    """A browser tab on the UI of ``base``, recording script errors and failed API calls."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)
    failed_calls: list[str] = field(default_factory=list)
    api_calls: int = 0
    expected_failures: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        self.page.goto(self.base + path, wait_until="domcontentloaded")
        self.page.locator("main[data-page]").wait_for(timeout=TIMEOUT_MS)
        return self.page

    def wait_until_live(self) -> None:
        """Waits for the MQTT connection and the broker's acknowledgement of every subscription made so far.

        Call it once the components under test are on the page: a message published before its
        subscription is acknowledged may never arrive (MQTT keeps no backlog for live topics)."""
        self.page.locator("[data-mqtt='connected'][data-mqtt-pending='0']").wait_for(timeout=TIMEOUT_MS)

    def wait_for_live_points(self, chart_key: str, count: int) -> None:
        """Waits until the chart ``chart_key`` has drawn ``count`` points that came live over MQTT;
        on a timeout, fails with what the chart shows."""
        chart = self.page.locator(f"figure[data-chart='{chart_key}']")
        try:
            chart.locator(f"xpath=self::*[@data-live-points='{count}']").wait_for(timeout=TIMEOUT_MS)
        except Exception:
            shown = chart.evaluate("f => [...f.attributes].map(a => a.name + '=' + a.value).join(' ')")
            raise AssertionError(f"{count} live points expected; the chart shows {shown}: {chart.inner_text()!r}") from None

    def expect_failure(self, path_part: str) -> None:
        self.expected_failures.append(path_part)

    def problems(self) -> list[str]:
        failed = [c for c in self.failed_calls if not any(part in c for part in self.expected_failures)]
        return self.errors + failed

    def _on_response(self, response: Any) -> None:
        url = response.url.removeprefix(self.base)
        if url.startswith(("/api", "/unit_api", "/exports", "/static")):
            self.api_calls += 1
            if response.status >= 400:
                self.failed_calls.append(f"{response.request.method} {url} -> {response.status}")

    def _on_request_failed(self, request: Any) -> None:
        url = request.url.removeprefix(self.base)
        if url.startswith(("/api", "/unit_api", "/exports")) and "ERR_ABORTED" not in str(request.failure):
            self.failed_calls.append(f"{request.method} {url} -> no answer ({request.failure})")

    def _on_console(self, message: Any) -> None:
        # a failed resource is reported (with its URL) by _on_response
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(f"console: {message.text[:400]}")


@pytest.fixture
def ui_page(chromium_browser: Any) -> Iterator[Any]:
    """A factory: ``ui = ui_page(web_server.url)`` opens a fresh context and tab for that server."""
    opened: list[tuple[Any, UiPage]] = []

    def open_page(base: str, *, viewport: tuple[int, int] = (1280, 900), storage: bool = True) -> UiPage:
        context = chromium_browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True)
        if not storage:
            # a browser that refuses localStorage (upstream #560): every access throws
            context.add_init_script(
                "Object.defineProperty(window, 'localStorage', {get() { throw new DOMException('denied', 'SecurityError'); }});"
            )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        ui = UiPage(page, base)
        page.on("response", ui._on_response)
        page.on("requestfailed", ui._on_request_failed)
        page.on("console", ui._on_console)
        page.on("pageerror", lambda err: ui.errors.append(f"script error: {str(err)[:400]}"))
        opened.append((context, ui))
        return ui

    yield open_page
    problems = []
    for context, ui in opened:
        problems += ui.problems()
        context.close()
    assert problems == [], "the UI logged errors or API calls failed:\n" + "\n".join(problems)


@dataclass
class UiServer:
    """A web server with an experiment (the pio_home's) and its unit assigned to it."""

    server: Any
    unit: str
    experiment: str

    @property
    def url(self) -> str:
        return str(self.server.url)

    def add_silent_worker(self, name: str = "ghost") -> None:
        """A worker in the inventory that answers nothing (a free port on this machine)."""
        added = self.server.put(
            "/api/workers", json={"pioreactor_unit": name, "address": f"127.0.0.1:{free_port()}", "force": True}
        )
        assert added.status == 201, added.text


@pytest.fixture
def ui_server(web_server: Any, pio_home: Any) -> UiServer:
    created = web_server.post(
        "/api/experiments", json={"experiment": pio_home.experiment, "description": "UI test", "mediaUsed": "LB"}
    )
    assert created.status == 201, created.text
    assigned = web_server.put(f"/api/experiments/{pio_home.experiment}/workers", json={"pioreactor_unit": pio_home.unit})
    assert assigned.status < 300, assigned.text
    return UiServer(web_server, pio_home.unit, pio_home.experiment)

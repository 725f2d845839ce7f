"""Benchmarks of the web UI in headless Chromium (Debian's, driven by Playwright):

- the JavaScript of the first load of the Overview, gzipped (budget <= 300 KB; upstream
  25.11.19: 620 KB in one bundle), measured on what the browser actually fetched;
- the time until the Overview of a 4-unit, 7-day experiment at 5 s readings is interactive
  (budget <= 1.5 s): from navigation start until every chart drew its history (the charts'
  ``data-loading`` turns 0 with points) and the event log is there, in a fresh browser context
  (no cache), median of N runs; and the same with the browser's cache (a reload).

    .venv/bin/python benchmarks/ui_benchmarks.py [--runs 5] [--json benchmarks/results/ui.json]

The database is seeded directly: 4 units x 7 days x 5 s = 483,840 rows in each of od_readings,
od_readings_filtered, growth_rates and temperature_readings (about 1.9 M rows, ~30 s to write).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pioreactor.plugins_core.web.testing import CHROMIUM, launch_chromium

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from ui_sandbox import sandbox  # noqa: E402

BUILT = ROOT / "plugins_core" / "web" / "ui_dist"
JS_BUDGET_KB = 300
INTERACTIVE_BUDGET_S = 1.5
READY = """() => {
  const charts = [...document.querySelectorAll('figure[data-chart]')];
  return charts.length >= 4 && charts.every(c => c.dataset.loading === '0')
    && charts.filter(c => Number(c.dataset.points) > 0).length >= 4
    && !!document.querySelector('.logs-card tbody tr');
}"""


def first_load_js(browser: Any, base: str) -> dict[str, Any]:
    """The JS files the browser fetched to show the Overview, with their gzipped sizes."""
    context = browser.new_context()
    page = context.new_page()
    fetched: list[str] = []
    page.on("response", lambda r: fetched.append(r.url) if r.url.endswith(".js") else None)
    page.goto(base + "/overview")
    page.wait_for_function(READY, timeout=60_000)
    context.close()
    files = {}
    for url in sorted(set(fetched)):
        path = BUILT / url.split("/static/", 1)[1]
        raw = path.read_bytes()
        files[path.name] = {"bytes": len(raw), "gzip_bytes": len(gzip.compress(raw, 9))}
    total = sum(f["gzip_bytes"] for f in files.values())
    return {"files": files, "gzip_kb": round(total / 1024, 1), "raw_kb": round(sum(f["bytes"] for f in files.values()) / 1024, 1)}


def time_to_interactive(browser: Any, base: str, runs: int) -> dict[str, Any]:
    cold: list[float] = []
    warm: list[float] = []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        for samples in (cold, warm):  # first visit, then a reload with the cache
            if samples is cold:
                page.goto(base + "/overview")
            else:
                page.reload()
            page.wait_for_function(READY, timeout=60_000, polling="raf")
            samples.append(page.evaluate("performance.now()") / 1000)
        context.close()
    return {
        "cold_median_s": round(statistics.median(cold), 3),
        "cold_samples_s": [round(s, 3) for s in cold],
        "warm_median_s": round(statistics.median(warm), 3),
        "warm_samples_s": [round(s, 3) for s in warm],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "ui.json")
    parser.add_argument("--chromium", default=CHROMIUM)
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"seeding 4 units x {options.days} days at 5 s ...", flush=True)
    with sandbox(units=4, hours=options.days * 24, every_s=5, profile=False) as box:
        # the whole experiment on screen: the hardest case for the charts
        base = box.base
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright, options.chromium)
            warmup = browser.new_context().new_page()  # first queries build the series indexes
            warmup.goto(base + "/overview")
            warmup.wait_for_function(READY, timeout=120_000)
            warmup.context.close()
            js = first_load_js(browser, base)
            timing = time_to_interactive(browser, base, options.runs)
            browser.close()
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "experiment": f"4 units, {options.days} days, 5 s readings, 4 charts of 720 points per unit (the last 12 h by default)",
        "first_load_js": js,
        "overview_interactive": timing,
        "budgets": {"js_gzip_kb": JS_BUDGET_KB, "interactive_s": INTERACTIVE_BUDGET_S},
        "upstream": {"js_gzip_kb": 620},
    }
    print(f"first load JS: {js['gzip_kb']} KB gzipped ({js['raw_kb']} KB raw, {len(js['files'])} files), budget {JS_BUDGET_KB} KB")
    print(
        f"Overview interactive: {timing['cold_median_s']} s cold, {timing['warm_median_s']} s warm (median of {options.runs}),"
        f" budget {INTERACTIVE_BUDGET_S} s"
    )
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(result, indent=2) + "\n")
    ok = js["gzip_kb"] <= JS_BUDGET_KB and timing["cold_median_s"] <= INTERACTIVE_BUDGET_S
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

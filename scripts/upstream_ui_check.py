"""Drive upstream's built web UI against our API in headless Chromium and list every API call
that fails (status >= 400, or no answer).

    .venv/bin/pip download pioreactor==26.11.1 --no-deps --python-version 3.13 --only-binary=:all: -d /tmp/up
    (cd /tmp/up && python3 -m zipfile -e pioreactor-26.11.1-py3-none-any.whl whl)
    .venv/bin/pip install playwright            # the Python package only; the browser is Debian's
    apt-get install -y chromium
    .venv/bin/python scripts/upstream_ui_check.py --static /tmp/up/whl/pioreactor/web/static

Nothing of upstream is copied into this repository: ``--static`` points at the unpacked wheel.
The script makes a throw-away ``PIO_HOME`` (unit ``unit1``, the leader, simulated hardware), a
Mosquitto with a TCP and a WebSockets listener on free ports, starts ``mqtt_to_db_streaming``
and ``web_server`` (``[web] ui_folder`` = the upstream build), seeds an experiment, a few
minutes of readings, a profile and a calibration, then opens each page of the UI, waits for its
calls to settle, takes a screenshot (``--shots DIR``) and records failed calls. Every process it
started is stopped at the end. Exit status 0 if no call failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pioreactor.plugins_core.web.testing import CHROMIUM, launch_chromium

sys.path.insert(0, str(Path(__file__).parent))
from ui_sandbox import call, free_port, wait_for  # noqa: E402

PIO = Path(sys.executable).parent / "pio"
UNIT = "unit1"
EXPERIMENT = "ui-check"
PAGES = [
    "/overview",
    "/pioreactors",
    f"/pioreactors/{UNIT}",
    "/experiments",
    "/start-new-experiment",
    "/experiment-profiles",
    "/experiment-profiles/new",
    "/experiment-profiles/demo.yaml",
    "/experiment-profiles/demo.yaml/edit",
    f"/export-data?experiment={EXPERIMENT}&datasets=growth_rates",
    "/calibrations",
    f"/calibrations/{UNIT}/media_pump/pump_cal",
    "/calibration-coverage",
    "/estimators",
    "/protocols",
    "/inventory",
    "/leader",
    "/logs",
    f"/logs/{UNIT}",
    "/system-logs",
    "/config",
    "/plugins",
    "/updates",
    "/cameras",
]
PROFILE = """\
experiment_profile_name: demo
metadata:
  author: ui check
  description: stir for a minute
common:
  jobs:
    stirring:
      actions:
        - type: start
          hours_elapsed: 0.0
        - type: stop
          hours_elapsed: 0.02
"""
CALIBRATION = """\
calibration_type: simple_peristaltic_pump
calibration_name: pump_cal
calibrated_on_pioreactor_unit: unit1
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


def seed_database(home: Path) -> None:
    """Two hours of readings (every 30 s) so the charts have history."""
    env = dict(os.environ, PIO_HOME=str(home), PIO_UNIT=UNIT)
    script = f"""
from datetime import UTC, datetime, timedelta
from pioreactor.sdk.database import open_database, canonical_timestamp
conn = open_database()
now = datetime.now(UTC)
rows = [(canonical_timestamp(now - timedelta(seconds=30 * i)), i) for i in range(240)]
conn.executemany("INSERT OR IGNORE INTO growth_rates VALUES ('{EXPERIMENT}', '{UNIT}', ?, 0.2 + ? * 1e-4)", rows)
conn.executemany("INSERT OR IGNORE INTO temperature_readings VALUES ('{EXPERIMENT}', '{UNIT}', ?, 30 + ? * 1e-3)", rows)
conn.executemany("INSERT OR IGNORE INTO od_readings_filtered VALUES ('{EXPERIMENT}', '{UNIT}', ?, 1 + ? * 1e-3)", rows)
conn.executemany(
    "INSERT OR IGNORE INTO od_readings (experiment, pioreactor_unit, timestamp, od_reading, angle, channel) "
    "VALUES ('{EXPERIMENT}', '{UNIT}', ?, 0.05 + ? * 1e-4, 90, 2)", rows)
conn.close()
"""
    subprocess.run([sys.executable, "-c", script], env=env, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--static", type=Path, required=True, help="upstream's pioreactor/web/static folder")
    parser.add_argument("--shots", type=Path, default=None, help="save a screenshot of each page here")
    parser.add_argument("--json", type=Path, default=None, help="write the findings as JSON here")
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument("--pages", nargs="*", help="only these pages (default: every page)")
    parser.add_argument("--settle-ms", type=int, default=2500, help="wait this long on each page for its calls")
    options = parser.parse_args()
    if not (options.static / "index.html").is_file():
        parser.error(f"{options.static} has no index.html: point --static at pioreactor/web/static of the wheel")

    processes: list[subprocess.Popen[bytes]] = []
    tmp = Path(tempfile.mkdtemp(prefix="ui-check-"))
    try:
        mqtt_port, ws_port, web_port = free_port(), free_port(), free_port()
        (tmp / "mosquitto.conf").write_text(
            f"listener {mqtt_port} 127.0.0.1\nlistener {ws_port} 127.0.0.1\nprotocol websockets\n"
            "allow_anonymous true\npersistence false\n"
        )
        processes.append(
            subprocess.Popen(
                [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(tmp / "mosquitto.conf")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        home = tmp / "home"
        home.mkdir()
        charts = "\n".join(f"{key}=1" for key in ("optical_density", "temperature", "stirring_rates", "implied_growth_rate", "normalized_optical_density"))
        (home / "config.ini").write_text(
            f"[mqtt]\nbroker_address=127.0.0.1\nbroker_port={mqtt_port}\nbroker_ws_port={ws_port}\nws_protocol=ws\n\n"
            f"[hardware]\nbackend=simulator\n\n[web]\nport={web_port}\nui_folder={options.static}\n\n"
            f"[cluster.topology]\nleader_hostname={UNIT}\nleader_address=127.0.0.1\n\n"
            f"[ui.overview.charts]\n{charts}\n\n[ui.overview.cards]\ndosings=1\nprofiles=1\nevent_logs=1\n\n"
            "[ui.overview.settings]\ntime_display_mode=hours\n\n[logging]\nui_log_level=INFO\n\n"
            # the UI names OD series by angle from this section of the file it parses
            "[od_config.photodiode_channel]\n1=REF\n2=90\n"
        )
        (home / "experiment_profiles").mkdir()
        (home / "experiment_profiles" / "demo.yaml").write_text(PROFILE)
        env = dict(os.environ, PIO_HOME=str(home), PIO_UNIT=UNIT)
        env.pop("EXPERIMENT", None)
        for job in ("mqtt_to_db_streaming", "web_server"):
            processes.append(
                subprocess.Popen([str(PIO), "run", job], env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / f"{job}.log", "wb"))
            )
        base = f"http://127.0.0.1:{web_port}"
        wait_for(base + "/unit_api/health")
        status, answer = call(
            base,
            "POST",
            "/api/experiments",
            {"experiment": EXPERIMENT, "created_at": datetime.now(UTC).isoformat(), "description": "UI check", "mediaUsed": "LB", "organismUsed": "E. coli"},
        )
        print(f"create experiment: {status} {answer}")
        print("assign:", call(base, "PUT", f"/api/experiments/{EXPERIMENT}/workers", {"pioreactor_unit": UNIT})[0])
        seed_database(home)
        print("calibration:", call(base, "POST", "/unit_api/calibrations/media_pump", {"calibration_data": CALIBRATION})[0])
        print("start od_reading:", call(base, "POST", f"/api/workers/{UNIT}/jobs/run/job_name/od_reading/experiments/{EXPERIMENT}", {"options": {}, "args": []})[0])

        findings = drive(base, options)
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
        subprocess.run([str(PIO), "kill", "--all-jobs"], env=dict(os.environ, PIO_HOME=str(tmp / "home"), PIO_UNIT=UNIT), capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    failed = sum(len(page["failed"]) for page in findings)
    if options.json:
        options.json.write_text(json.dumps(findings, indent=2) + "\n")
    print(f"\n{len(findings)} pages, {failed} failed API calls")
    return 0 if failed == 0 else 1


# -- what a user does on some pages (each returns what it saw) ---------------------------------
def export_a_dataset(page: Any) -> str:
    # the experiment and the dataset come from the page's query string, as a shared link
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name=re.compile(r"^Export \d+")).click()  # "Export 1": one dataset
    return f"downloaded {download.value.suggested_filename}"


def run_a_profile(page: Any) -> str:
    page.get_by_role("button", name="Run profile").first.click()
    page.get_by_text("Profile name").wait_for(timeout=20_000)  # the running-profiles table
    seen = page.locator("body").inner_text().split("Profile name")[1].split("Recent profile runs")[0]
    page.get_by_role("button", name="Stop", exact=True).first.click()
    page.get_by_role("button", name="Stop profile").click()  # the confirmation
    page.get_by_text("No profiles are currently running.").wait_for(timeout=20_000)
    return "ran and stopped from the UI; the table showed: " + " ".join(seen.split())


def save_a_broken_profile(page: Any) -> str:
    editor = page.locator("textarea").first
    editor.fill(PROFILE.replace("type: stop", "type: stopp"))
    page.get_by_role("button", name="Save").click()
    page.wait_for_timeout(1500)
    text = page.locator("body").inner_text()
    shown = [line for line in text.splitlines() if "stopp" in line or "rror" in line]
    return "error shown: " + (" | ".join(shown[:3]) or "nothing")


def open_capabilities(page: Any) -> str:
    page.get_by_text("Search jobs and automations").click()
    page.wait_for_timeout(1500)
    return "capabilities panel opened"


def set_calibration_active(page: Any) -> str:
    page.get_by_role("button", name="Set active").click()
    page.wait_for_timeout(500)
    confirm = page.get_by_role("dialog").get_by_role("button", name=re.compile("Set active|Confirm|Yes"))
    if confirm.count():
        confirm.first.click()
    page.get_by_role("button", name=re.compile("Set inactive|Active")).first.wait_for(timeout=15_000)
    buttons = page.get_by_role("button").all_inner_texts()
    return "after Set active, the buttons read: " + ", ".join(b for b in buttons if "ctive" in b)


ACTIONS = {
    f"/calibrations/{UNIT}/media_pump/pump_cal": set_calibration_active,
    f"/export-data?experiment={EXPERIMENT}&datasets=growth_rates": export_a_dataset,
    "/experiment-profiles": run_a_profile,
    "/experiment-profiles/demo.yaml/edit": save_a_broken_profile,
    "/experiment-profiles/new": open_capabilities,
}


def drive(base: str, options: argparse.Namespace) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    findings: list[dict[str, Any]] = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, options.chromium)
        if options.shots:
            options.shots.mkdir(parents=True, exist_ok=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        for path in options.pages or PAGES:
            # a fresh tab per page: calls of the previous page cannot land on this one
            page = context.new_page()
            current: dict[str, Any] = {"page": path, "calls": 0, "failed": [], "errors": []}

            def on_response(response: Any, current: dict[str, Any] = current) -> None:
                url = response.url.removeprefix(base)
                if url.startswith(("/api", "/unit_api", "/exports")):
                    current["calls"] += 1
                    if response.status >= 400:
                        try:
                            detail = response.json().get("error")
                        except Exception:
                            detail = ""
                        line = f"{response.request.method} {url} -> {response.status} {detail or ''}".strip()
                        if line not in current["failed"]:
                            current["failed"].append(line)

            def on_failed(request: Any, current: dict[str, Any] = current) -> None:
                url = request.url.removeprefix(base)
                # ERR_ABORTED: the UI (or closing the tab) cancelled it, not a server failure
                if url.startswith(("/api", "/unit_api", "/exports")) and "ERR_ABORTED" not in str(request.failure):
                    current["failed"].append(f"{request.method} {url} -> no answer ({request.failure})")

            page.on("response", on_response)
            page.on("requestfailed", on_failed)
            page.on("pageerror", lambda err, current=current: current["errors"].append(str(err)[:300]))
            # errors React's error boundary catches reach only the console
            page.on(
                "console",
                lambda msg, current=current: current["errors"].append(msg.text[:400])
                if msg.type == "error" and "Failed to load resource" not in msg.text
                else None,
            )
            page.goto(base + path, wait_until="domcontentloaded")
            page.wait_for_timeout(options.settle_ms)
            action = ACTIONS.get(path)
            if action is not None:
                try:
                    current["action"] = action(page)
                except Exception as err:
                    current["action"] = f"FAILED: {type(err).__name__}: {str(err).splitlines()[0][:200]}"
                page.wait_for_timeout(1000)
            if options.shots:
                page.screenshot(path=str(options.shots / (path.strip("/").split("?")[0].replace("/", "_") or "index")) + ".png")
            page.close()
            findings.append(current)
            status = "ok" if not current["failed"] else f"{len(current['failed'])} failed"
            print(f"{path:45} {current['calls']:3} calls  {status}")
            if "action" in current:
                print(f"    action: {current['action']}")
            for line in current["failed"]:
                print(f"    {line}")
            for line in current["errors"]:
                print(f"    page error: {line}")
        browser.close()
    return findings


if __name__ == "__main__":
    sys.exit(main())

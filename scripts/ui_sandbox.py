"""A throw-away leader for looking at the web UI: its own ``PIO_HOME``, a Mosquitto with a TCP
and a WebSockets listener on free ports, ``mqtt_to_db_streaming`` and ``web_server``, an
experiment with units assigned and hours of readings seeded in the database.

Used by ``scripts/ui_screenshots.py`` and ``benchmarks/ui_benchmarks.py``; run alone, it prints
the URL and serves until Ctrl-C (``.venv/bin/python scripts/ui_sandbox.py --units 2 --hours 6``).
Every process it started is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PIO = Path(sys.executable).parent / "pio"
EXPERIMENT = "demo-experiment"
CHARTS = (
    "optical_density",
    "normalized_optical_density",
    "implied_growth_rate",
    "temperature",
    "stirring_rates",
    "led_intensities",
    "dosing_events",
)
PROFILE = """\
experiment_profile_name: demo
metadata:
  author: ui sandbox
  description: stir for a minute
common:
  jobs:
    stirring:
      actions:
        - type: start
          hours_elapsed: 0.0
          options:
            target_rpm: 400
        - type: stop
          hours_elapsed: 0.02
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(base: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except (OSError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} does not answer after {timeout} s") from None
            time.sleep(0.1)


@dataclass
class Sandbox:
    folder: Path
    home: Path
    unit: str
    units: list[str]
    base: str
    mqtt_port: int
    ws_port: int
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = dict(os.environ, PIO_HOME=str(self.home), PIO_UNIT=self.unit)
        env.pop("EXPERIMENT", None)
        return env

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return call(self.base, method, path, body)


def seed_readings(home: Path, unit_names: list[str], hours: float, every_s: float, experiment: str = EXPERIMENT) -> int:
    """Readings of OD, normalised OD, growth rate and temperature for each unit, every
    ``every_s`` seconds over the last ``hours`` (the number of rows written), with LED changes
    and, in the second half, a chemostat's doses."""
    env = dict(os.environ, PIO_HOME=str(home), PIO_UNIT=unit_names[0])
    script = f"""
import math, random
from datetime import UTC, datetime, timedelta
from pioreactor.sdk.database import open_database, canonical_timestamp
conn = open_database()
conn.execute("BEGIN")
now = datetime.now(UTC)
n = int({hours} * 3600 / {every_s})
total = 0
for k, unit in enumerate({unit_names!r}):
    rng = random.Random(k)
    rows_od, rows_nod, rows_gr, rows_t = [], [], [], []
    for i in range(n):
        t = canonical_timestamp(now - timedelta(seconds={every_s} * (n - i)))
        h = i * {every_s} / 3600
        od = 0.05 + 1.2 / (1 + math.exp(-(h - 20 - k * 3) / 6)) + rng.gauss(0, 0.004)
        rows_od.append(({experiment!r}, unit, t, od, '90', '2'))
        rows_nod.append(({experiment!r}, unit, t, od / 0.05))
        rows_gr.append(({experiment!r}, unit, t, 0.25 * math.exp(-((h - 20 - k * 3) / 12) ** 2) + rng.gauss(0, 0.003)))
        rows_t.append(({experiment!r}, unit, t, 30 + 0.2 * math.sin(h) + rng.gauss(0, 0.02)))
    conn.executemany("INSERT OR IGNORE INTO od_readings (experiment, pioreactor_unit, timestamp, od_reading, angle, channel) VALUES (?, ?, ?, ?, ?, ?)", rows_od)
    conn.executemany("INSERT OR IGNORE INTO od_readings_filtered VALUES (?, ?, ?, ?)", rows_nod)
    conn.executemany("INSERT OR IGNORE INTO growth_rates VALUES (?, ?, ?, ?)", rows_gr)
    conn.executemany("INSERT OR IGNORE INTO temperature_readings VALUES (?, ?, ?, ?)", rows_t)
    # white light (LED B) on and off every 4 hours, each unit an hour after the previous one
    rows_led = [({experiment!r}, unit, canonical_timestamp(now - timedelta(hours={hours} - h)), 'B', 50.0 if (h // 4) % 2 == 0 else 0.0, 'light_dark_cycle')
                for h in range(k, int({hours}), 4)]
    conn.executemany("INSERT OR IGNORE INTO led_change_events (experiment, pioreactor_unit, timestamp, channel, intensity, source_of_event) VALUES (?, ?, ?, ?, ?, ?)", rows_led)
    # a chemostat from the second half on: media in, then as much waste out, every 30 minutes
    rows_dose = []
    for m in range(int({hours} * 30), int({hours} * 60), 30):
        t = now - timedelta(minutes={hours} * 60 - m - k * 7)
        volume = round(0.5 + 0.1 * (m // 30 % 3), 2)
        rows_dose.append(({experiment!r}, unit, canonical_timestamp(t), volume, 'add_media', 'dosing_automation:chemostat'))
        rows_dose.append(({experiment!r}, unit, canonical_timestamp(t + timedelta(seconds=20)), volume, 'remove_waste', 'dosing_automation:chemostat'))
    conn.executemany("INSERT OR IGNORE INTO dosing_events (experiment, pioreactor_unit, timestamp, volume_change_ml, event, source_of_event) VALUES (?, ?, ?, ?, ?, ?)", rows_dose)
    total += 4 * n
conn.execute("COMMIT")
conn.close()
print(total)
"""
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1])


def join_seeded_to_live(home: Path, unit: str, since: datetime, timeout: float = 60.0, experiment: str = EXPERIMENT) -> bool:
    """Scale ``unit``'s seeded OD history so it ends at its first live reading (taken after
    ``since``): the made-up curve otherwise ends far from what the simulated vial reads, and the
    chart shows that as a cliff where history meets live points. False if no reading came."""
    env = dict(os.environ, PIO_HOME=str(home), PIO_UNIT=unit)
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # as the database writes them
    script = f"""
import time
from pioreactor.sdk.database import open_database
conn = open_database()
where = "experiment = ? AND pioreactor_unit = ? AND channel = 2"
deadline = time.monotonic() + {timeout}
live = None
while live is None and time.monotonic() < deadline:
    live = conn.execute(f"SELECT od_reading FROM od_readings WHERE {{where}} AND timestamp > ? ORDER BY timestamp LIMIT 1",
                        ({experiment!r}, {unit!r}, {stamp!r})).fetchone()
    if live is None:
        time.sleep(0.5)
last = conn.execute(f"SELECT od_reading FROM od_readings WHERE {{where}} AND timestamp <= ? ORDER BY timestamp DESC LIMIT 1",
                    ({experiment!r}, {unit!r}, {stamp!r})).fetchone()
if live and last and last[0]:
    conn.execute(f"UPDATE od_readings SET od_reading = od_reading * ? WHERE {{where}} AND timestamp <= ?",
                 (live[0] / last[0], {experiment!r}, {unit!r}, {stamp!r}))
    conn.commit()
print(1 if live else 0)
"""
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip().endswith("1")


def add_units(home: Path, leader: str, others: list[str], leader_address: str, experiment: str = EXPERIMENT) -> None:
    """Units beyond the leader, straight into its inventory and the experiment (they have no
    web server to answer ``pio workers add``: their cards show no monitor). The leader joins the
    inventory too, as a leader that is also a worker does: ``$broadcast`` routes then reach it."""
    env = dict(os.environ, PIO_HOME=str(home), PIO_UNIT=leader)
    script = f"""
from pioreactor.plugins_core.cluster.inventory import add_worker
from pioreactor.plugins_core.data.experiment_store import assign_units
add_worker({leader!r}, {leader_address!r})
for unit in {others!r}:
    add_worker(unit, "127.0.0.1:9")
assign_units({experiment!r}, {others!r})
"""
    subprocess.run([sys.executable, "-c", script], env=env, check=True)


@contextmanager
def sandbox(
    units: int = 1, hours: float = 2.0, every_s: float = 30.0, folder: Path | None = None, profile: bool = True
) -> Iterator[Sandbox]:
    """A leader (``unit1``) with ``units`` units assigned to ``demo-experiment`` and ``hours``
    of readings; the units beyond the first exist only in the inventory and the data."""
    tmp = Path(folder or tempfile.mkdtemp(prefix="ui-sandbox-"))
    tmp.mkdir(parents=True, exist_ok=True)
    mqtt_port, ws_port, web_port = free_port(), free_port(), free_port()
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    names = [f"unit{i}" for i in range(1, units + 1)]
    box = Sandbox(tmp, home, names[0], names, f"http://127.0.0.1:{web_port}", mqtt_port, ws_port)
    try:
        (tmp / "mosquitto.conf").write_text(
            f"listener {mqtt_port} 127.0.0.1\nlistener {ws_port} 127.0.0.1\nprotocol websockets\n"
            "allow_anonymous true\npersistence false\n"
        )
        box.processes.append(
            subprocess.Popen(
                [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(tmp / "mosquitto.conf")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        charts = "\n".join(f"{key}=1" for key in CHARTS)
        (home / "config.ini").write_text(
            f"[mqtt]\nbroker_address=127.0.0.1\nbroker_port={mqtt_port}\nbroker_ws_port={ws_port}\nws_protocol=ws\n\n"
            f"[hardware]\nbackend=simulator\n\n[web]\nport={web_port}\n\n"
            f"[cluster.topology]\nleader_hostname={names[0]}\nleader_address=127.0.0.1\n\n"
            f"[ui.overview.charts]\n{charts}\n\n[ui.overview.cards]\ndosings=1\nprofiles=1\nevent_logs=1\n\n"
            "[logging]\nui_log_level=INFO\n"
        )
        if profile:
            (home / "experiment_profiles").mkdir(exist_ok=True)
            (home / "experiment_profiles" / "demo.yaml").write_text(PROFILE)
        for job in ("mqtt_to_db_streaming", "web_server"):
            box.processes.append(
                subprocess.Popen(
                    [str(PIO), "run", job], env=box.env(), stdout=subprocess.DEVNULL, stderr=open(tmp / f"{job}.log", "wb")
                )
            )
        wait_for(box.base + "/unit_api/health")
        created = (datetime.now(UTC) - timedelta(hours=hours)).isoformat()
        box.call("POST", "/api/experiments", {"experiment": EXPERIMENT, "created_at": created, "description": "A simulated run", "mediaUsed": "LB", "organismUsed": "E. coli"})
        box.call("PUT", f"/api/experiments/{EXPERIMENT}/workers", {"pioreactor_unit": names[0]})
        if len(names) > 1:
            add_units(home, names[0], names[1:], f"127.0.0.1:{web_port}")
        if hours > 0:
            seed_readings(home, names, hours, every_s)
        yield box
    finally:
        for process in reversed(box.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
        subprocess.run([str(PIO), "kill", "--all-jobs"], env=box.env(), capture_output=True, check=False)
        # long-running jobs a caller started through the API (kill --all-jobs spares them)
        subprocess.run([str(PIO), "kill", "--job-name", "monitor"], env=box.env(), capture_output=True, check=False)
        if folder is None:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2)
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between seeded readings")
    options = parser.parse_args()

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # a background `&` start ignores SIGINT: both signals end the sandbox cleanly
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    with sandbox(options.units, options.hours, options.every) as box:
        print(f"UI: {box.base}/   PIO_HOME={box.home} PIO_UNIT={box.unit}", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

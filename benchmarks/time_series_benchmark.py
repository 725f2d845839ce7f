"""Benchmark of chart data: a 4-unit, 7-day experiment read at 5 s (483,840 rows per table)
down-sampled to 720 points per series. Target: <= 50 ms for all units.

Usage: ``.venv/bin/python benchmarks/time_series_benchmark.py [--runs N] [--http] [--json PATH]``

It makes a throw-away ``PIO_HOME`` whose database has the tables the plugins declare, fills
``growth_rates`` (one series per unit) and ``od_readings`` (two channels per unit, so 967,680
rows), and times :func:`query_time_series` in-process: the first call (which builds the series
index) and then the median of N warm calls. With ``--http`` it also starts ``pio run
web_server`` on a free port and times ``GET /api/experiments/<e>/time_series/growth_rates``
end to end.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

EXPERIMENT = "bench"
UNITS = [f"unit{i}" for i in range(1, 5)]
PERIOD_S = 5
DAYS = 7


def stamp(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def fill(path: Path, end: datetime) -> int:
    from pioreactor.sdk.database import open_database

    conn = open_database(path)
    n = DAYS * 24 * 3600 // PERIOD_S
    start = end - timedelta(seconds=PERIOD_S * n)
    conn.execute("BEGIN")
    for unit in UNITS:
        times = [stamp(start + timedelta(seconds=PERIOD_S * i)) for i in range(n)]
        conn.executemany(
            "INSERT INTO growth_rates (experiment, pioreactor_unit, timestamp, rate) VALUES (?, ?, ?, ?)",
            ((EXPERIMENT, unit, t, 0.1 + i * 1e-6) for i, t in enumerate(times)),
        )
        for channel in (1, 2):
            conn.executemany(
                "INSERT INTO od_readings (experiment, pioreactor_unit, timestamp, od_reading, angle, channel) "
                "VALUES (?, ?, ?, ?, 90, ?)",
                ((EXPERIMENT, unit, t, 0.05 + i * 1e-6, channel) for i, t in enumerate(times)),
            )
    conn.execute("COMMIT")
    rows = conn.execute("SELECT count(*) FROM growth_rates").fetchone()[0]
    conn.close()
    return int(rows)


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return (time.perf_counter() - t0) * 1000, result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ts-bench-") as tmp:
        home = Path(tmp)
        os.environ["PIO_HOME"] = str(home)
        os.environ["PIO_UNIT"] = "unit1"
        db = home / "storage" / "pioreactor.sqlite"
        end = datetime.now(UTC)
        t_fill, rows = timed(lambda: fill(db, end))
        print(f"filled {rows} growth_rates rows and {2 * rows} od_readings rows in {t_fill / 1000:.1f} s")

        from pioreactor.plugins_core.data.time_series import query_time_series
        from pioreactor.sdk.database import connect

        conn = connect(db)
        figures: dict[str, Any] = {
            "rows_per_table": rows,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
        }
        for source in ("growth_rates", "od_readings"):
            cold, result = timed(
                lambda s=source: query_time_series(conn, EXPERIMENT, s, lookback_hours=24 * DAYS, target_points=720)
            )
            samples = []
            for _ in range(options.runs):
                ms, result = timed(
                    lambda s=source: query_time_series(conn, EXPERIMENT, s, lookback_hours=24 * DAYS, target_points=720)
                )
                samples.append(ms)
            per_unit = [
                timed(lambda s=source: query_time_series(conn, EXPERIMENT, s, unit="unit2", lookback_hours=24 * DAYS, target_points=720))[0]
                for _ in range(options.runs)
            ]
            points = [len(series) for series in result["data"]]
            figures[source] = {
                "first_call_ms (builds the index)": round(cold, 1),
                "all_units_median_ms": round(statistics.median(samples), 2),
                "all_units_min_ms": round(min(samples), 2),
                "one_unit_median_ms": round(statistics.median(per_unit), 2),
                "series": result["series"],
                "points_per_series": points,
                "target_ms": 50,
                "meets_target": statistics.median(samples) <= 50,
            }
            print(f"{source}: {json.dumps(figures[source])}")
        conn.close()

        if options.http:
            port = free_port()
            pio = Path(sys.executable).parent / "pio"
            (home / "config.ini").write_text(f"[web]\nport = {port}\n[cluster.topology]\nleader_hostname = unit1\n")
            server = subprocess.Popen([str(pio), "run", "web_server", "--port", str(port)], stdout=subprocess.DEVNULL)
            try:
                url = f"http://127.0.0.1:{port}/api/experiments/{EXPERIMENT}/time_series/growth_rates?target_points=720&lookback={24 * DAYS}"
                deadline = time.monotonic() + 20
                while True:
                    try:
                        urllib.request.urlopen(f"http://127.0.0.1:{port}/unit_api/health", timeout=1).read()
                        break
                    except OSError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.1)
                urllib.request.urlopen(url).read()
                samples = [timed(lambda: urllib.request.urlopen(url).read())[0] for _ in range(options.runs)]
                figures["http_growth_rates_all_units_median_ms"] = round(statistics.median(samples), 2)
                print(f"HTTP all units: median {statistics.median(samples):.1f} ms, min {min(samples):.1f} ms")
            finally:
                server.terminate()
                server.wait(10)
        figures["load_average_at_end"] = os.getloadavg()
        if options.json:
            options.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()

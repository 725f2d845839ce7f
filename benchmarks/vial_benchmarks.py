"""Benchmarks of the simulated vial's jobs: filter cost, OD job CPU and memory, start-up, speed limit.

Self-contained like run_benchmarks.py: its own mosquitto on a free port, a throw-away PIO_HOME per
phase (simulator backend), every job killed and the broker stopped at the end, every wait bounded.
Usage: ``.venv/bin/python benchmarks/vial_benchmarks.py [--runs N] [--quick]``. See benchmarks/README.md.

(a) growth-rate filter: µs per `GrowthRateFilter.update`, in this process;
(b) od_reading alone on a scaled clock: CPU seconds (utime+stime) per simulated hour of readings
    at the default 5 s interval, and peak RSS (VmHWM);
(c) spawn -> ``$state`` ready of each job, at real time, against upstream's figures;
(d) a full unit (stirring, od_reading, growth_rate_calculating, thermostat) at rising clock
    speeds: the highest at which od_reading still takes every reading, in simulated hours per
    wall-clock minute.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_benchmarks import PIO, start_broker, wait_or_kill  # noqa: E402

UNIT = "bench"
RESULTS = Path(__file__).resolve().parent / "results" / "vial.json"
CLK_TCK = os.sysconf("SC_CLK_TCK")
OD_INTERVAL = 5.0  # od_reading's default: 1 / [od_reading.config] samples_per_second
THERMOSTAT = ["temperature_automation", "--automation-name", "thermostat", "--target-temperature", "37"]
FULL_UNIT = [["stirring"], ["od_reading"], ["growth_rate_calculating", "--ignore-cache"], THERMOSTAT]
#: (label, `pio run` arguments, job name on MQTT, upstream's start-to-ready, what upstream's figure is of)
STARTUP_JOBS: list[tuple[str, list[str], str, float | None, str]] = [
    ("stirring", ["stirring"], "stirring", 0.72, "stirring"),
    ("od_reading", ["od_reading"], "od_reading", 1.01, "od_reading"),
    (
        "growth_rate_calculating",
        ["growth_rate_calculating"],
        "growth_rate_calculating",
        0.19,
        "growth_rate_calculating",
    ),
    ("temperature_automation thermostat", THERMOSTAT, "temperature_automation", None, "-"),
    (
        "led_automation silent",
        ["led_automation", "--automation-name", "silent"],
        "led_automation",
        0.19,
        "dosing_automation silent",
    ),
]
#: a gap between two OD readings longer than this many intervals means a reading was skipped
SKIP_GAP = 1.5
#: (d) passes while at most this fraction of the expected readings is skipped (an isolated
#: scheduling hiccup from other load on the machine is tolerated, a job falling behind is not)
MAX_SKIPPED_FRACTION = 0.005


# -- plumbing ----------------------------------------------------------------------------------
class Recorder:
    """One paho subscriber to a phase's topics: ``$state`` of every job, the OD readings, growth rates."""

    def __init__(self, port: int) -> None:
        self._lock = threading.Lock()
        self._ready: dict[str, threading.Event] = {}
        self.ods: list[tuple[float, float]] = []  # (wall time received, reading's timestamp on the clock)
        self.growth_rates = 0
        connected, subscribed = threading.Event(), threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pio-vial-bench-{os.getpid()}")
        self.client.on_connect = lambda *_: connected.set()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not connected.wait(5):
            raise RuntimeError("the recorder could not connect to mosquitto")
        topics = ["+/$state", "od_reading/ods", "growth_rate_calculating/growth_rate"]
        self.client.subscribe([(f"pioreactor/{UNIT}/+/{topic}", 1) for topic in topics])
        if not subscribed.wait(5):
            raise RuntimeError("the recorder's subscription was not acknowledged")

    def expect_ready(self, experiment: str, job: str) -> threading.Event:
        event = threading.Event()
        with self._lock:
            self._ready[f"pioreactor/{UNIT}/{experiment}/{job}/$state"] = event
        return event

    def reset(self) -> None:
        with self._lock:
            self.ods, self.growth_rates = [], 0

    def _on_message(self, _client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.retain or not message.payload:
            return
        topic = message.topic
        with self._lock:
            if topic.endswith("/$state"):
                event = self._ready.get(topic)
                if event is not None and message.payload == b"ready":
                    event.set()
            elif topic.endswith("/ods"):
                stamp = dt.datetime.fromisoformat(json.loads(message.payload)["timestamp"]).timestamp()
                self.ods.append((time.monotonic(), stamp))
            else:
                self.growth_rates += 1

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Phase:
    """A fresh PIO_HOME (so a fresh vial, clock origin, job registry) and experiment on the shared broker."""

    def __init__(self, tmp: Path, port: int, name: str, clock_speed: float) -> None:
        self.home = tmp / name
        self.home.mkdir()
        self.experiment = name
        self.log = self.home / "jobs.log"
        (self.home / "config.ini").write_text(
            f"[mqtt]\nbroker_address=127.0.0.1\nbroker_port={port}\n[hardware]\nbackend=simulator\n"
            f"[simulation]\nclock_speed={clock_speed:g}\n[logging]\nconsole_log_level=WARNING\n"
        )
        self.env = os.environ | {"PIO_HOME": str(self.home), "PIO_UNIT": UNIT, "EXPERIMENT": name}
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, args: list[str]) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            proc = subprocess.Popen([str(PIO), "run", *args], env=self.env, stdout=out, stderr=out)
        self.procs.append(proc)
        return proc

    def start_ready(
        self, recorder: Recorder, args: list[str], job: str, timeout: float = 15.0
    ) -> tuple[subprocess.Popen[bytes], float]:
        """Spawn ``pio run <args>``; seconds until its ``$state`` is ready."""
        ready = recorder.expect_ready(self.experiment, job)
        start = time.perf_counter()
        proc = self.spawn(args)
        if not ready.wait(timeout):
            raise RuntimeError(f"{job} was not ready within {timeout:g} s; the log:\n{self.tail()}")
        return proc, time.perf_counter() - start

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""

    def kill_all(self) -> None:
        try:
            subprocess.run(
                [str(PIO), "kill", "--all-jobs"], env=self.env, timeout=20, capture_output=True, check=False
            )
        except subprocess.TimeoutExpired:
            print(f"warning: `pio kill --all-jobs` timed out in {self.home.name}", file=sys.stderr)
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            wait_or_kill(proc, 10)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15 of stat)


def status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no {key} for pid {pid}")


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


def gap_stats(stamps: list[float], interval: float = OD_INTERVAL) -> dict[str, float]:
    """Readings, skipped readings (from gaps over SKIP_GAP intervals) and the timing jitter of ``stamps``."""
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    skipped = sum(round(g / interval) - 1 for g in gaps if g > SKIP_GAP * interval)
    jitter = sorted(abs(g - interval) for g in gaps if g <= SKIP_GAP * interval) or [0.0]
    return {
        "readings": len(stamps),
        "skipped": skipped,
        "skipped_fraction": skipped / max(1, len(stamps) + skipped),
        "jitter_p99_s": jitter[min(len(jitter) - 1, int(0.99 * len(jitter)))],
        "simulated_hours": (stamps[-1] - stamps[0]) / 3600 if len(stamps) > 1 else 0.0,
    }


# -- (a) the filter --------------------------------------------------------------------------------
def filter_cost(updates: int, repeats: int) -> dict[str, Any]:
    from pioreactor.plugins_core.growth_rate.ekf import GrowthRateFilter

    rng = random.Random(7)
    step, rate = OD_INTERVAL / 3600, 0.5
    results: dict[str, Any] = {}
    for label, angles in (
        ("1 channel (90°)", {"2": "90"}),
        ("2 channels (90°, 135°)", {"2": "90", "3": "135"}),
    ):
        readings = [
            {ch: math.exp(rate * i * step) * (1 + rng.gauss(0, 0.01)) for ch in angles}
            for i in range(updates)
        ]
        samples = []
        for _ in range(repeats):
            kf = GrowthRateFilter(
                angles=angles, relative_variances=dict.fromkeys(angles, 1e-4), initial_od=1.0
            )
            start = time.perf_counter()
            for reading in readings:
                kf.update(reading, step)
            samples.append((time.perf_counter() - start) / updates * 1e6)
        results[label] = {
            "us_per_reading": statistics.median(samples),
            "samples": samples,
            "final_growth_rate": kf.growth_rate,
            "true_growth_rate": rate,
        }
    return results


# -- (b) od_reading alone ----------------------------------------------------------------------------
def od_job_cost(tmp: Path, port: int, recorder: Recorder, speed: float, hours: float) -> dict[str, Any]:
    phase = Phase(tmp, port, "b-od-reading", speed)
    try:
        proc, _ = phase.start_ready(recorder, ["od_reading"], "od_reading")
        recorder.reset()
        wait_until(lambda: len(recorder.ods) >= 1, 10, "the first OD reading")
        cpu0, first = cpu_seconds(proc.pid), recorder.ods[0][1]
        wall = hours * 3600 / speed
        wait_until(
            lambda: recorder.ods[-1][1] - first >= hours * 3600, 3 * wall + 10, f"{hours:g} simulated hours"
        )
        cpu1, hwm, rss = cpu_seconds(proc.pid), status_mb(proc.pid, "VmHWM"), status_mb(proc.pid, "VmRSS")
        stats = gap_stats([s for _, s in recorder.ods])
    finally:
        phase.kill_all()
    sim_hours = stats["simulated_hours"]
    return stats | {
        "clock_speed": speed,
        "cpu_s": cpu1 - cpu0,
        "cpu_s_per_simulated_hour": (cpu1 - cpu0) / sim_hours,
        "ms_cpu_per_reading": (cpu1 - cpu0) / max(1, stats["readings"] - 1) * 1000,
        "vmhwm_mb": hwm,
        "vmrss_mb": rss,
    }


# -- (c) start to ready ------------------------------------------------------------------------------
def startup_times(tmp: Path, port: int, recorder: Recorder, runs: int) -> list[dict[str, Any]]:
    phase = Phase(tmp, port, "c-startup", 1.0)
    rows = []
    try:
        for args in (["--help"], ["run", "--help"]):  # warm-up: plugin index cache, .pyc files
            subprocess.run([str(PIO), *args], env=phase.env, capture_output=True, timeout=30, check=True)
        for label, args, job, upstream, upstream_of in STARTUP_JOBS:
            samples = []
            for _ in range(runs):
                proc, elapsed = phase.start_ready(recorder, args, job)
                samples.append(elapsed)
                proc.send_signal(signal.SIGTERM)
                if not wait_or_kill(proc, 10):
                    raise RuntimeError(f"{job} did not exit within 10 s of SIGTERM")
            rows.append(
                {
                    "job": label,
                    "median_s": statistics.median(samples),
                    "min_s": min(samples),
                    "samples": samples,
                    "upstream_s": upstream,
                    "upstream_of": upstream_of,
                }
            )
    finally:
        phase.kill_all()
    return rows


# -- (d) the fastest clock for a full unit -------------------------------------------------------------
def full_unit_at(tmp: Path, port: int, recorder: Recorder, speed: float, window: float) -> dict[str, Any]:
    phase = Phase(tmp, port, f"d-unit-{speed:g}x", speed)
    try:
        procs = {args[0]: phase.start_ready(recorder, args, args[0])[0] for args in FULL_UNIT}
        pids = {job: proc.pid for job, proc in procs.items()}
        # growth_rate_calculating first collects statistics from 40 readings (200 simulated s)
        time.sleep(max(0.5, 400 / speed))
        recorder.reset()
        cpu0 = {job: cpu_seconds(pid) for job, pid in pids.items()}
        start = time.monotonic()
        time.sleep(window)
        wall = time.monotonic() - start
        cpu1 = {job: cpu_seconds(pid) for job, pid in pids.items()}
        ods, growth_rates = list(recorder.ods), recorder.growth_rates
        alive = [job for job, proc in procs.items() if proc.poll() is None]
    finally:
        phase.kill_all()
    stats = gap_stats([s for _, s in ods])
    sim_hours = stats["simulated_hours"] or float("nan")
    return stats | {
        "clock_speed": speed,
        "wall_s": wall,
        "simulated_hours_per_wall_minute": sim_hours / (ods[-1][0] - ods[0][0]) * 60 if len(ods) > 1 else 0.0,
        "growth_rates_per_reading": growth_rates / max(1, len(ods)),
        "cpu_s_per_simulated_hour": {job: (cpu1[job] - cpu0[job]) / sim_hours for job in pids},
        "jobs_alive": alive,
        "passes": stats["skipped_fraction"] <= MAX_SKIPPED_FRACTION
        and len(alive) == len(pids)
        and len(ods) > 10,
    }


def fastest_clock(
    tmp: Path, port: int, recorder: Recorder, window: float, ladder: list[float]
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Double the speed until od_reading skips readings, then bisect twice between the last pass and the fail."""
    levels: list[dict[str, Any]] = []

    def run(speed: float) -> bool:
        level = full_unit_at(tmp, port, recorder, speed, window)
        levels.append(level)
        print(
            f"  {speed:6g}x: {level['readings']:4d} readings, {level['skipped']:3d} skipped, "
            f"p99 jitter {level['jitter_p99_s']:.2f} s -> {'ok' if level['passes'] else 'falls behind'}",
            flush=True,
        )
        return bool(level["passes"])

    passed, failed = None, None
    for speed in ladder:
        if run(speed):
            passed = speed
        else:
            failed = speed
            break
    for _ in range(2):
        if passed is None or failed is None:
            break
        middle = round((passed + failed) / 2, -1)
        if not passed < middle < failed:
            break
        if run(middle):
            passed = middle
        else:
            failed = middle
    best = next((lv for lv in levels if lv["clock_speed"] == passed and lv["passes"]), None)
    return levels, best


# -- report --------------------------------------------------------------------------------------------
def report(data: dict[str, Any]) -> None:
    print("\n(a) growth-rate filter, in-process")
    for label, row in data["filter"].items():
        print(
            f"    {label:<24} {row['us_per_reading']:7.1f} µs per reading "
            f"(estimate {row['final_growth_rate']:.3f} h⁻¹, true {row['true_growth_rate']:.3f})"
        )
    b = data["od_job"]
    print(
        f"\n(b) od_reading alone, {b['simulated_hours']:.2f} simulated h at {b['clock_speed']:g}x, 5 s interval"
    )
    print(
        f"    {b['cpu_s_per_simulated_hour']:.2f} CPU s per simulated hour ({b['ms_cpu_per_reading']:.2f} ms per reading, "
        f"{b['readings']} readings, {b['skipped']} skipped); peak RSS (VmHWM) {b['vmhwm_mb']:.1f} MB"
    )
    print("\n(c) spawn -> $state ready, real-time clock")
    header = f"    {'job':<34} | {'median':>8} | {'min':>8} | {'upstream':>8} | upstream figure of"
    print(header + "\n    " + "-" * (len(header) - 4))
    for row in data["startup"]:
        up = f"{row['upstream_s']:.2f} s" if row["upstream_s"] is not None else "-"
        print(
            f"    {row['job']:<34} | {row['median_s']:6.3f} s | {row['min_s']:6.3f} s | {up:>8} | {row['upstream_of']}"
        )
    print("\n(d) full unit (stirring, od_reading, growth_rate_calculating, thermostat) on a scaled clock")
    header = f"    {'clock':>7} | {'readings':>8} | {'skipped':>7} | {'p99 jitter':>10} | {'gr/reading':>10} | {'sim h/wall min':>14} | verdict"
    print(header + "\n    " + "-" * (len(header) - 4))
    for lv in data["unit"]["levels"]:
        print(
            f"    {lv['clock_speed']:6g}x | {lv['readings']:8d} | {lv['skipped']:7d} | {lv['jitter_p99_s']:8.2f} s | "
            f"{lv['growth_rates_per_reading']:10.2f} | {lv['simulated_hours_per_wall_minute']:14.1f} | "
            f"{'keeps 5 s' if lv['passes'] else 'falls behind'}"
        )
    best = data["unit"]["best"]
    if best:
        cpu = ", ".join(f"{job} {s:.2f}" for job, s in best["cpu_s_per_simulated_hour"].items())
        print(
            f"    => {best['simulated_hours_per_wall_minute']:.1f} simulated hours per wall-clock minute "
            f"at {best['clock_speed']:g}x\n    CPU s per simulated hour there: {cpu}"
        )
    else:
        print("    => od_reading skipped readings even at the slowest clock tried")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(f"\nwritten to {RESULTS}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="start-ups per job in (c) (default 3)")
    parser.add_argument("--quick", action="store_true", help="shorter windows: a smoke test, noisier figures")
    args = parser.parse_args()
    quick = args.quick
    started = time.monotonic()
    data: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.platform(),
        "nproc": os.cpu_count(),
        "load_avg_at_start": os.getloadavg(),
    }
    print("(a) timing GrowthRateFilter.update ...", flush=True)
    data["filter"] = filter_cost(2000 if quick else 20000, 3 if quick else 5)
    with tempfile.TemporaryDirectory(prefix="pio-vial-bench-") as tmp_name:
        tmp = Path(tmp_name)
        broker, port = start_broker(tmp)
        recorder: Recorder | None = None
        try:
            recorder = Recorder(port)
            print("(b) od_reading alone on a scaled clock ...", flush=True)
            data["od_job"] = od_job_cost(tmp, port, recorder, speed=360, hours=0.5 if quick else 2.0)
            print("(c) start-up of each job ...", flush=True)
            data["startup"] = startup_times(tmp, port, recorder, 1 if quick else max(1, args.runs))
            print("(d) full unit at rising clock speeds ...", flush=True)
            window = 3.0 if quick else 8.0
            levels, best = fastest_clock(tmp, port, recorder, window, [150, 300, 600, 1200, 2400])
            data["unit"] = {
                "window_wall_s": window,
                "max_skipped_fraction": MAX_SKIPPED_FRACTION,
                "levels": levels,
                "best": best,
            }
        finally:
            if recorder is not None:
                recorder.close()
            broker.terminate()
            try:
                broker.wait(5)
            except subprocess.TimeoutExpired:
                broker.kill()
                broker.wait(5)
    data["total_wall_s"] = time.monotonic() - started
    report(data)
    print(f"total {data['total_wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

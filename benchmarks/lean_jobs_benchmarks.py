"""Lean, instant jobs (issue 17): start, settings round trip, stop, memory of six jobs and the
CLI's help, each without and with the unit's fork server, against upstream's figures.

Self-contained like run_benchmarks.py: its own mosquitto on a free port, a throw-away PIO_HOME
with the simulator backend. Usage:
``.venv/bin/python benchmarks/lean_jobs_benchmarks.py [--runs N] [--mode plain|fork-server|both]``.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_benchmarks  # noqa: E402
from run_benchmarks import (  # noqa: E402
    Watcher,
    make_env,
    ms_since,
    set_target_rpm,
    start_broker,
    start_stirring,
    stop_job,
    time_command,
    wait_or_kill,
)

RESULTS = Path(__file__).resolve().parent / "results" / "lean_jobs.json"
ROOT = Path(__file__).resolve().parent.parent
UNIT = EXPERIMENT = "bench"
SETTLE_S = 5.0  # the six jobs run this long before their memory is read
SIX_JOBS = [
    ["stirring"],
    ["od_reading"],
    ["growth_rate_calculating"],
    ["temperature_automation", "--automation-name", "thermostat", "--target-temperature", "37"],
    ["dosing_automation", "--automation-name", "silent"],
    ["led_automation", "--automation-name", "silent"],
]
# (figure, unit, target, upstream 25.11.19 on this machine, ours before issue 17): the table
FIGURES: list[tuple[str, str, float, float, float]] = [
    ("start -> ready (stirring)", "ms", 100, 830, 200),
    ("jobs set -> echo", "ms", 50, 1250, 190),
    ("SIGTERM -> exit", "ms", 100, 2120, 110),
    ("six jobs, sum of PSS", "MB", 72, 144, 115),
    ("pio --help", "ms", 73, 182, 71),
    ("pio run --help", "ms", 70, 174, 92),
]


@dataclass
class Figure:
    name: str
    unit: str
    target: float
    upstream: float
    before: float
    samples: list[float] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages count divided by the number of processes sharing them."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no Pss for pid {pid}")


def running_job_pids(env: dict[str, str]) -> dict[str, int]:
    out = subprocess.run(
        [str(run_benchmarks.PIO), "jobs", "list", "--running", "--json"], env=env, capture_output=True, check=True, timeout=20
    )
    return {row["job_name"]: int(row["pid"]) for row in json.loads(out.stdout)}


def six_jobs_memory(env: dict[str, str], port: int, tmp: Path, server_pid: int | None) -> tuple[float, dict[str, Any]]:
    """Start the six jobs, wait until each is ready and SETTLE_S more, sum their processes' PSS:
    the job processes, the `pio run` processes a user started (the same ones without a fork
    server) and the fork server itself."""
    recorder = ReadyRecorder(port)
    procs: list[subprocess.Popen[bytes]] = []
    log = (tmp / "six_jobs.log").open("ab")
    try:
        events = []
        for args in SIX_JOBS:
            events.append(recorder.expect(args[0]))
            procs.append(subprocess.Popen([str(run_benchmarks.PIO), "run", *args], env=env, stdout=log, stderr=log))
        for args, event in zip(SIX_JOBS, events, strict=True):
            if not event.wait(30):
                raise RuntimeError(f"{args[0]} was not ready within 30 s: {(tmp / 'six_jobs.log').read_text()[-1500:]}")
        time.sleep(SETTLE_S)  # a deliberate settling time, not synchronisation
        jobs = running_job_pids(env)
        launchers = {p.pid for p in procs} - set(jobs.values())
        detail: dict[str, Any] = {name: round(pss_mb(pid), 2) for name, pid in jobs.items()}
        detail["pio run processes (fork-server clients)"] = round(sum(pss_mb(pid) for pid in launchers), 2)
        if server_pid is not None:
            detail["fork server"] = round(pss_mb(server_pid), 2)
        total = sum(v for v in detail.values())
        return total, detail
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            wait_or_kill(proc, 15)
        recorder.close()
        log.close()


class ReadyRecorder:
    """Sets an event when a job's ``$state`` turns ``ready``."""

    def __init__(self, port: int) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="pio-bench-ready")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe(f"pioreactor/{UNIT}/{EXPERIMENT}/+/$state", 1)
        if not subscribed.wait(5):
            raise RuntimeError("subscription was not acknowledged")

    def expect(self, job: str) -> threading.Event:
        event = threading.Event()
        with self._lock:
            self._events[job] = event
        return event

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        job = message.topic.split("/")[3]
        with self._lock:
            event = self._events.get(job)
        if event is not None and message.payload == b"ready":
            event.set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def installed_pio(tmp: Path) -> Path:
    """``pio`` of a virtualenv where this tree is installed from a wheel, as on a unit; its
    dependencies come from the running virtualenv. An editable install (``make``'s) runs an
    import hook from a ``.pth`` file at every interpreter start, which a wheel does not."""
    wheels, venv = tmp / "wheel", tmp / "installed"
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True)
    subprocess.run([str(Path(sys.base_prefix) / "bin" / "python3"), "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run([*pip, "--python", str(venv / "bin" / "python"), "install", "-q", "--no-deps",
                    str(next(wheels.glob("*.whl")))], check=True, capture_output=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "_benchmark_dependencies.pth").write_text(str(Path(mqtt_site_packages())) + "\n")
    return venv / "bin" / "pio"


def mqtt_site_packages() -> str:
    import paho

    return str(Path(paho.__path__[0]).parent)


def start_fork_server(env: dict[str, str], tmp: Path) -> subprocess.Popen[bytes]:
    log = (tmp / "fork_server.log").open("ab")
    server = subprocess.Popen([str(run_benchmarks.PIO), "fork-server", "start"], env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = subprocess.run([str(run_benchmarks.PIO), "fork-server", "status"], env=env, capture_output=True, check=False)
        if status.returncode == 0:
            return server
        if server.poll() is not None:
            break
        time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"the fork server did not start: {(tmp / 'fork_server.log').read_text()[-1500:]}")


def measure(mode: str, runs: int, tmp: Path, port: int) -> list[Figure]:
    figures = [Figure(*spec) for spec in FIGURES]
    ready, setting, stop, memory, help_top, help_run = figures
    home = tmp / mode
    home.mkdir()
    env = make_env(home, port) | {"PIO_NO_FORK_SERVER": ""}
    server = start_fork_server(env, home) if mode == "fork-server" else None
    watcher = Watcher(port)
    try:
        for args in (["--help"], ["run", "--help"]):  # warm-up: the plugin index, .pyc files
            time_command(args, env)
        for _ in range(runs):
            help_top.samples.append(time_command(["--help"], env))
            help_run.samples.append(time_command(["run", "--help"], env))
        log = home / "stirring.log"
        for i in range(runs + 1):
            proc, elapsed = start_stirring(env, watcher, log)
            try:
                time.sleep(0.5)  # let the job settle (its first broker round trips), not synchronisation
                rpm = set_target_rpm(env, watcher, 300.0 + 7 * i)
                stopped = stop_job(proc)
                if i:  # the first start creates the registry's files: left out
                    ready.samples.append(elapsed)
                    setting.samples.append(rpm)
                    stop.samples.append(stopped)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(5)
        for _ in range(max(1, runs // 3)):
            total, detail = six_jobs_memory(env, port, home, server.pid if server else None)
            memory.samples.append(total)
            memory.detail = detail
    finally:
        watcher.close()
        subprocess.run([str(run_benchmarks.PIO), "kill", "--all-jobs"], env=env, timeout=30, capture_output=True, check=False)
        if server is not None:
            server.send_signal(signal.SIGTERM)
            wait_or_kill(server, 15)
    return figures


def report(results: dict[str, list[Figure]], runs: int, path: Path = RESULTS) -> None:
    modes = list(results)
    header = f"{'figure':<26} | {'upstream':>9} | {'before':>8} | " + " | ".join(f"{m:>12}" for m in modes) + " | target"
    print(header)
    print("-" * len(header))
    for i, spec in enumerate(FIGURES):
        name, unit, target, upstream, before = spec
        cells = " | ".join(f"{results[m][i].median:>9.1f} {unit:<2}" for m in modes)
        best = min(results[m][i].median for m in modes)
        verdict = "meets" if best <= target else "MISSES"
        print(f"{name:<26} | {upstream:>6g} {unit:<2} | {before:>5g} {unit:<2} | {cells} | <= {target:g} {unit} ({verdict})")
    for mode in modes:
        print(f"\nsix jobs' PSS ({mode}, MB): {json.dumps(results[mode][3].detail)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.platform(),
        "nproc": os.cpu_count(),
        "load_avg_at_end": os.getloadavg(),
        "runs": runs,
        "modes": {
            mode: [
                {"name": f.name, "unit": f.unit, "median": f.median, "min": min(f.samples), "samples": f.samples,
                 "target": f.target, "upstream": f.upstream, "before": f.before, "detail": f.detail}
                for f in figures
            ]
            for mode, figures in results.items()
        },
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"\nwritten to {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="runs per figure (default 7)")
    parser.add_argument("--mode", choices=["plain", "fork-server", "both"], default="both")
    parser.add_argument(
        "--installed", action="store_true", help="measure this tree installed from a wheel, not the editable install"
    )
    parser.add_argument("--pio", type=Path, help="measure this `pio` (another virtualenv or Python version)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    modes = ["plain", "fork-server"] if args.mode == "both" else [args.mode]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pio-lean-") as tmp_name:
        tmp = Path(tmp_name)
        if args.installed:
            run_benchmarks.PIO = installed_pio(tmp)  # the helpers of run_benchmarks use it too
            print(f"measuring {run_benchmarks.PIO} (installed from a wheel)")
        elif args.pio:
            run_benchmarks.PIO = args.pio.absolute()
            print(f"measuring {run_benchmarks.PIO}")
        broker, port = start_broker(tmp)
        try:
            results = {mode: measure(mode, args.runs, tmp, port) for mode in modes}
        finally:
            broker.terminate()
            try:
                broker.wait(5)
            except subprocess.TimeoutExpired:
                broker.kill()
    name = "lean_jobs_installed.json" if args.installed else "lean_jobs_other.json" if args.pio else RESULTS.name
    report(results, args.runs, RESULTS.with_name(name))
    print(f"({ms_since(started) / 1000:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Latency and memory benchmarks of the `pio` CLI and the stirring job, against upstream's figures.

Self-contained: starts its own mosquitto on a free port and a throw-away PIO_HOME using the simulator
backend. Usage: ``.venv/bin/python benchmarks/run_benchmarks.py [--runs N]``. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

PIO = Path(sys.executable).parent / "pio"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
UNIT = EXPERIMENT = "bench"
PREFIX = f"pioreactor/{UNIT}/{EXPERIMENT}/stirring"
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
RSS_DELAY_S = 3.0  # "a few seconds after ready"


@dataclass
class Metric:
    name: str
    unit: str
    target: float
    upstream: float
    upstream_text: str
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def meets(self) -> bool:
        return bool(self.samples) and self.median <= self.target


class Watcher:
    """One paho subscriber; `expect(topic, predicate)` arms an Event set by the next matching message."""

    def __init__(self, port: int) -> None:
        self._lock = threading.Lock()
        self._armed: dict[str, tuple[Callable[[mqtt.MQTTMessage], bool], threading.Event]] = {}
        self._connected, self._subscribed = threading.Event(), threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="pio-bench-watcher")
        self.client.on_connect = lambda *_: self._connected.set()
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not self._connected.wait(5):
            raise RuntimeError("watcher could not connect to mosquitto")
        self.client.subscribe([(f"{PREFIX}/$state", 1), (f"{PREFIX}/target_rpm", 1)])
        if not self._subscribed.wait(5):
            raise RuntimeError("watcher subscription was not acknowledged")

    def expect(self, topic: str, predicate: Callable[[mqtt.MQTTMessage], bool]) -> threading.Event:
        event = threading.Event()
        with self._lock:
            self._armed[topic] = (predicate, event)
        return event

    def _on_message(self, _client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            armed = self._armed.get(message.topic)
        if armed is not None and armed[0](message):
            armed[1].set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_broker(tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    log = (tmp / "mosquitto.log").open("wb")
    broker = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return broker, port
        except OSError:
            if broker.poll() is not None:
                break
            time.sleep(0.02)
    broker.kill()
    raise RuntimeError(f"mosquitto did not start: {(tmp / 'mosquitto.log').read_text()[-500:]}")


def make_env(tmp: Path, port: int) -> dict[str, str]:
    home = tmp / "pio_home"
    home.mkdir()
    (home / "config.ini").write_text(
        f"[mqtt]\nbroker_address=127.0.0.1\nbroker_port={port}\n[hardware]\nbackend=simulator\n"
    )
    env = os.environ | {"PIO_HOME": str(home), "PIO_UNIT": UNIT, "EXPERIMENT": EXPERIMENT}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a unit: imports use (and the warm-up writes) .pyc files
    return env


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def wait_or_kill(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Block in waitpid (exact exit time, unlike Popen.wait(timeout), which polls up to every 50 ms);
    a watchdog kills the process after ``timeout``. True if it exited on its own."""
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    try:
        proc.wait()
    finally:
        watchdog.cancel()
    return proc.returncode != -signal.SIGKILL


def time_command(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen([str(PIO), *args], env=env, stdout=subprocess.DEVNULL, stderr=errors)
        if not wait_or_kill(proc, 10) or proc.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"`pio {' '.join(args)}` failed (exit {proc.returncode}): {errors.read().decode()[-1500:]}")
    return ms_since(start)


def job_log(path: Path) -> str:
    return path.read_text(errors="replace")[-1500:] if path.exists() else ""


def start_stirring(env: dict[str, str], watcher: Watcher, log: Path) -> tuple[subprocess.Popen[bytes], float]:
    """Metric 3: spawn `pio run stirring`; ms until `$state` is `ready`."""
    ready = watcher.expect(f"{PREFIX}/$state", lambda m: m.payload == b"ready")
    with log.open("ab") as out:
        start = time.perf_counter()
        proc = subprocess.Popen([str(PIO), "run", "stirring"], env=env, stdout=out, stderr=out)
    if not ready.wait(10):
        proc.kill()
        raise RuntimeError(f"stirring was not ready within 10 s; its output:\n{job_log(log)}")
    return proc, ms_since(start)


def rss_mb(pid: int) -> float:
    """Metric 6: VmRSS of the job's process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmRSS for pid {pid}")


def set_target_rpm(env: dict[str, str], watcher: Watcher, value: float) -> float:
    """Metric 5: ms from launching `pio jobs set ... --no-wait` until the job's live echo."""

    def is_echo(message: mqtt.MQTTMessage) -> bool:
        try:
            return not message.retain and float(message.payload) == value
        except ValueError:  # b"" when the job clears its settings on exit
            return False

    echoed = watcher.expect(f"{PREFIX}/target_rpm", is_echo)
    args = [str(PIO), "jobs", "set", "stirring", "target_rpm", f"{value:g}", "--no-wait"]
    start = time.perf_counter()
    setter = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    seen = echoed.wait(5)
    elapsed = ms_since(start)
    if not wait_or_kill(setter, 10) or setter.returncode != 0:
        raise RuntimeError(f"`pio jobs set` failed (exit {setter.returncode})")
    if not seen:
        raise RuntimeError(f"stirring did not echo target_rpm={value:g} within 5 s")
    return elapsed


def stop_job(proc: subprocess.Popen[bytes]) -> float:
    """Metric 4: ms from SIGTERM until the job's process has exited."""
    start = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    if not wait_or_kill(proc, 10):
        raise RuntimeError("stirring did not exit within 10 s of SIGTERM")
    elapsed = ms_since(start)
    if proc.returncode != 0:
        print(f"warning: stirring exited with {proc.returncode} after SIGTERM", file=sys.stderr)
    return elapsed


def run_all(runs: int, tmp: Path, env: dict[str, str], watcher: Watcher) -> list[Metric]:
    help_top = Metric("pio --help", "ms", 75, 148, "148 ms")
    help_run = Metric("pio run --help", "ms", 75, 144, "144 ms")
    ready = Metric("start -> $state ready", "ms", 250, 720, "720 ms")
    stop = Metric("SIGTERM -> exit", "ms", 200, 2700, "up to 2.7 s")
    setting = Metric("jobs set -> echo", "ms", 150, 1130, "1.13 s")
    memory = Metric("job RSS", "MB", 25, 35, "35 MB")
    for args in (["--help"], ["run", "--help"]):  # warm-up: builds the plugin index cache, .pyc files
        time_command(args, env)
    for _ in range(runs):
        help_top.samples.append(time_command(["--help"], env))
        help_run.samples.append(time_command(["run", "--help"], env))
    log = tmp / "stirring.log"
    for i in range(runs):
        proc, elapsed = start_stirring(env, watcher, log)
        try:
            ready.samples.append(elapsed)
            time.sleep(RSS_DELAY_S)  # a deliberate delay, not synchronisation
            memory.samples.append(rss_mb(proc.pid))
            setting.samples.append(set_target_rpm(env, watcher, 300.0 + 7 * i))
            stop.samples.append(stop_job(proc))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
    return [help_top, help_run, ready, stop, setting, memory]


def report(metrics: list[Metric], runs: int) -> None:
    header = f"{'metric':<24} | {'median':>10} | {'min':>10} | {'target':>10} | {'upstream':>12} | verdict"
    print(header)
    print("-" * len(header))
    for m in metrics:
        print(
            f"{m.name:<24} | {m.median:>7.1f} {m.unit:<2} | {min(m.samples):>7.1f} {m.unit:<2} | "
            f"{'<= ' + f'{m.target:g} ' + m.unit:>10} | {m.upstream_text:>12} | "
            f"{'meets' if m.meets else 'MISSES'}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.platform(),
        "nproc": os.cpu_count(),
        "runs": runs,
        "metrics": [
            asdict(m) | {"median": m.median, "min": min(m.samples), "meets": m.meets} for m in metrics
        ],
    }
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(f"\nwritten to {RESULTS}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="runs per metric (default 7)")
    runs: int = parser.parse_args().runs
    if runs < 1:
        parser.error("--runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="pio-bench-") as tmp_name:
        tmp = Path(tmp_name)
        broker, port = start_broker(tmp)
        env = make_env(tmp, port)
        watcher: Watcher | None = None
        try:
            watcher = Watcher(port)
            metrics = run_all(runs, tmp, env, watcher)
        finally:
            try:
                subprocess.run(
                    [str(PIO), "kill", "--all-jobs"], env=env, timeout=15, capture_output=True, check=False
                )
            except subprocess.TimeoutExpired:
                print("warning: `pio kill --all-jobs` timed out", file=sys.stderr)
            if watcher is not None:
                watcher.close()
            broker.terminate()
            try:
                broker.wait(5)
            except subprocess.TimeoutExpired:
                broker.kill()
                broker.wait(5)
    report(metrics, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

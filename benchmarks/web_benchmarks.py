"""Benchmarks of the web server (``pio run web_server``).

Self-contained: its own mosquitto on a free port, a throw-away PIO_HOME (simulator backend), the
real web server in a subprocess; everything it starts is stopped at the end, every wait bounded.
Usage: ``.venv/bin/python benchmarks/web_benchmarks.py [--runs N] [--rate R] [--seconds S] [--json PATH]``.

(a) job start through the API -> ``ready``: from sending ``POST /unit_api/jobs/run/job_name/stirring``
    until an MQTT subscriber sees ``ready`` on the job's ``$state``; also the HTTP answer (202)
    alone. Each run stops the job through the API before the next. Alternated with each run, the
    same job spawned by hand (``pio run stirring``) until ready: what the API adds is the difference.
(b) ``GET /unit_api/health`` at R requests per second for S seconds (open loop: requests are sent
    on schedule by 4 client threads on keep-alive connections, whatever the answers' pace);
    latency percentiles and the rate achieved.
(c) the server's memory: VmRSS and VmHWM of the web_server process after start-up and after (b).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
UNIT, EXPERIMENT = "bench", "bench"
# upstream 25.11.19 on this machine (reference/upstream-pioreactor-today.md, A.8): Flask + Huey
UPSTREAM = {"job_start_http_ms": 4.7, "job_start_to_ready_ms": 1000.0, "health_median_ms": 0.8}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {port}")


def memory_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return fields


class Setup:
    def __init__(self, root: Path) -> None:
        self.mqtt_port, self.http_port = free_port(), free_port()
        conf = root / "mosquitto.conf"
        conf.write_text(f"listener {self.mqtt_port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.broker = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.mqtt_port)
        home = root / "home"
        home.mkdir()
        (home / "config.ini").write_text(
            f"[mqtt]\nbroker_address=127.0.0.1\nbroker_port={self.mqtt_port}\n\n[hardware]\nbackend=simulator\n\n"
            "[logging]\nconsole_log_level=WARNING\n\n[web]\njob_start_burst=1000\njob_starts_per_second=1000\n"
        )
        self.env = dict(os.environ, PIO_HOME=str(home), PIO_UNIT=UNIT, EXPERIMENT=EXPERIMENT)
        self.log = open(root / "web_server.out", "w")  # noqa: SIM115 (closed in stop)
        self.server = subprocess.Popen(
            [sys.executable, "-m", "pioreactor.kernel.cli", "run", "web_server", "--host", "127.0.0.1",
             "--port", str(self.http_port)],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        wait_port(self.http_port)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            conn.close()

    def wait_task(self, accepted: Any, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, body = self.request("GET", accepted["result_url_path"])
            if status == 200:
                return body
            time.sleep(0.01)
        raise TimeoutError("task did not finish")

    def stop(self) -> None:
        for process in (self.server, self.broker):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.log.close()


class StateWatcher:
    """Times when ``$state`` of stirring becomes ``ready`` (paho client, callbacks in its thread)."""

    def __init__(self, port: int) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.ready_at: float | None = None
        self.event = threading.Event()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        topic = f"pioreactor/{UNIT}/{EXPERIMENT}/stirring/$state"
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        subscribed.wait(10)

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        if msg.payload == b"ready" and not msg.retain:
            self.ready_at = time.perf_counter()
            self.event.set()

    def arm(self) -> None:
        self.ready_at = None
        self.event.clear()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def direct_start(setup: Setup, watcher: StateWatcher) -> float:
    """``pio run stirring`` spawned by hand until ``ready``: the job's own start-up, for comparison."""
    watcher.arm()
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "pioreactor.kernel.cli", "run", "stirring"],
        env=setup.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    if not watcher.event.wait(20):
        raise TimeoutError("stirring never became ready")
    assert watcher.ready_at is not None
    elapsed = (watcher.ready_at - start) * 1000
    process.terminate()
    process.wait(20)
    return elapsed


def job_start(setup: Setup, runs: int) -> dict[str, Any]:
    watcher = StateWatcher(setup.mqtt_port)
    to_ready, http_ms, direct = [], [], []
    try:
        for _ in range(runs + 1):  # the first start (cold caches) is left out
            direct.append(direct_start(setup, watcher))  # alternated, so both see the same load
            watcher.arm()
            start = time.perf_counter()
            status, accepted = setup.request("POST", "/unit_api/jobs/run/job_name/stirring", {"env": {"EXPERIMENT": EXPERIMENT}})
            answered = time.perf_counter()
            assert status == 202, accepted
            if not watcher.event.wait(20):
                raise TimeoutError("stirring never became ready")
            assert watcher.ready_at is not None
            to_ready.append((watcher.ready_at - start) * 1000)
            http_ms.append((answered - start) * 1000)
            setup.wait_task(accepted)
            _, stop = setup.request("POST", "/unit_api/jobs/stop", {"job_name": "stirring"})
            assert setup.wait_task(stop)["result"]["stopped"] == 1
    finally:
        watcher.close()
    return {
        "start_to_ready_ms": {"median": round(statistics.median(to_ready[1:]), 1), "min": round(min(to_ready[1:]), 1),
                              "samples": [round(v, 1) for v in to_ready[1:]]},
        "http_202_ms": {"median": round(statistics.median(http_ms[1:]), 2), "samples": [round(v, 2) for v in http_ms[1:]]},
        "direct_spawn_to_ready_ms": {"median": round(statistics.median(direct[1:]), 1),
                                     "samples": [round(v, 1) for v in direct[1:]]},
    }


def health_load(setup: Setup, rate: float, seconds: float, threads: int = 4) -> dict[str, Any]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    total = int(rate * seconds)
    t0 = time.perf_counter() + 0.2

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", setup.http_port, timeout=10)
        mine: list[float] = []
        for n in range(index, total, threads):
            due = t0 + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            try:
                conn.request("GET", "/unit_api/health")
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", setup.http_port, timeout=10)
                ok = False
            # latency from when the request was due, so a slow server cannot hide its backlog
            mine.append((time.perf_counter() - min(due, sent)) * 1000)
            if not ok:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)
        conn.close()

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - t0
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)

    return {
        "requests": len(ordered),
        "errors": errors[0],
        "achieved_rate": round(len(ordered) / elapsed, 1),
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": round(ordered[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "web.json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pio-web-bench-"))
    setup = Setup(root)
    try:
        results: dict[str, Any] = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "machine": platform.platform(),
            "nproc": os.cpu_count(),
            "load_avg_at_start": [round(v, 2) for v in os.getloadavg()],
            "upstream": UPSTREAM,
        }
        results["memory_after_start_mb"] = memory_mb(setup.server.pid)
        results["job_start"] = job_start(setup, args.runs)
        results["health"] = health_load(setup, args.rate, args.seconds)
        results["memory_after_load_mb"] = memory_mb(setup.server.pid)
    finally:
        setup.stop()
        shutil.rmtree(root, ignore_errors=True)
    start, health = results["job_start"], results["health"]
    print(f"job start via API -> ready: median {start['start_to_ready_ms']['median']} ms "
          f"(min {start['start_to_ready_ms']['min']}; target <= 300; upstream ~{UPSTREAM['job_start_to_ready_ms']:.0f})")
    print(f"  HTTP 202 answer: median {start['http_202_ms']['median']} ms (upstream {UPSTREAM['job_start_http_ms']}); "
          f"the same job spawned by hand, alternated: median {start['direct_spawn_to_ready_ms']['median']} ms")
    print(f"/unit_api/health at {args.rate:g} req/s: achieved {health['achieved_rate']}/s, p50 {health['p50_ms']} ms, "
          f"p99 {health['p99_ms']} ms (target <= 20), max {health['max_ms']} ms, errors {health['errors']}")
    print(f"server memory: after start {results['memory_after_start_mb']}, after load {results['memory_after_load_mb']} (MB)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()

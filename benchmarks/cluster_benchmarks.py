"""Benchmarks of the cluster on one machine (scripts/local_cluster.py): a leader and N simulated
workers, each its own PIO_HOME and web server, one mosquitto on a free port.

(a) ``pios run stirring -y`` until every worker's stirring publishes ``$state = ready`` (seen on
    MQTT), and until ``pios`` returns;
(b) the time ``pios`` takes to report a dead worker: its web server stopped (connection refused),
    and a worker that accepts the connection but never answers (the 2 s time-out).

Usage: ``.venv/bin/python benchmarks/cluster_benchmarks.py [--workers 3] [--json PATH]``.
Every process it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_cluster import LocalCluster  # noqa: E402
from run_benchmarks import start_broker  # noqa: E402


def ready_watcher(port: int, units: list[str]) -> tuple[mqtt.Client, dict[str, float], threading.Event]:
    seen: dict[str, float] = {}
    done = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)

    def on_message(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        unit = message.topic.split("/")[1]
        if message.payload == b"ready" and unit in units and unit not in seen:
            seen[unit] = time.monotonic()
            if len(seen) == len(units):
                done.set()

    subscribed = threading.Event()
    client.on_message = on_message
    client.on_subscribe = lambda *_a: subscribed.set()
    client.connect("127.0.0.1", port)
    client.subscribe("pioreactor/+/+/stirring/$state", qos=1)
    client.loop_start()
    subscribed.wait(5)
    return client, seen, done


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, object] = {"workers": args.workers}
    with tempfile.TemporaryDirectory() as tmp:
        broker, port = start_broker(Path(tmp))
        cluster = LocalCluster(Path(tmp) / "cluster", args.workers, broker_port=port)
        try:
            cluster.start()
            names = [u.name for u in cluster.units[1:]]
            client, seen, done = ready_watcher(port, names)
            started = time.monotonic()
            ran = cluster.pios("run", "stirring", "-y")
            returned = time.monotonic() - started
            all_ready = done.wait(60)
            client.loop_stop()
            assert ran.returncode == 0 and all_ready, ran.stdout + ran.stderr
            results["pios_run_stirring_returned_s"] = round(returned, 3)
            results["pios_run_stirring_all_ready_s"] = round(max(seen.values()) - started, 3)
            cluster.pios("kill", "--all-jobs", "-y")

            dead = cluster.units[-1]
            cluster.stop_worker_server(dead)
            started = time.monotonic()
            refused = cluster.pios("kill", "--all-jobs", "--units", dead.name, "-y")
            results["dead_worker_refused_reported_s"] = round(time.monotonic() - started, 3)
            assert refused.returncode == 1, refused.stdout

            with socket.socket() as silent:  # accepts (the kernel's backlog) but never answers
                silent.bind(("127.0.0.1", 0))
                silent.listen(8)
                cluster.pio("workers", "add", "silent", "--address", f"127.0.0.1:{silent.getsockname()[1]}", "--force", check=False)
                started = time.monotonic()
                hung = cluster.pios("kill", "--all-jobs", "--units", "silent", "-y")
                results["dead_worker_silent_reported_s"] = round(time.monotonic() - started, 3)
                assert hung.returncode == 1 and "within 2 s" in hung.stdout, hung.stdout
        finally:
            cluster.stop()
            broker.terminate()
            broker.wait(10)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

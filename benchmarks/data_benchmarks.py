"""Benchmarks of the leader's data path: MQTT -> SQLite throughput and latency, export, backup.

Self-contained: its own mosquitto (persistence on, as the leader's broker must be) on a free
port, a throw-away PIO_HOME, the real ``pio run mqtt_to_db_streaming`` in a subprocess; every
process it starts is stopped at the end and every wait is bounded.
Usage: ``.venv/bin/python benchmarks/data_benchmarks.py [--messages N] [--publishers P] [--rows R]
[--json PATH]``.

(a) sustained throughput: P publishers (``mosquitto_pub -l``, QoS 1, one process per simulated
    unit) each send N OD readings as fast as the broker takes them; timed from the first publish
    until every row is committed. Loss = published - stored (must be 0). Run once with
    mosquitto's default ``max_inflight_messages`` (20) and once with 1000.
(b) publish -> committed latency: single QoS 1 publishes every 20 ms, each timed until its row is
    visible to a reader of the database; idle, and under a steady background load.
(c) export: R od_readings rows (one experiment, 4 units) exported with ``pio run
    export_experiment_data``: rows per second and the process's peak RSS (compared with a tiny export).
(d) backup: ``pio run backup_database`` of that database while the streamer keeps writing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pwd
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PIO = Path(sys.executable).parent / "pio"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PUB = shutil.which("mosquitto_pub")
EXPERIMENT = "bench"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Setup:
    """A broker, a PIO_HOME and the streamer."""

    def __init__(self, root: Path, inflight: int) -> None:
        self.root = root
        self.port = free_port()
        (root / "broker").mkdir(parents=True)
        (root / "home").mkdir()
        conf = root / "broker" / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {root / 'broker'}/\nmax_queued_messages 0\nmax_inflight_messages {inflight}\n"
            f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
        )
        self.broker = subprocess.Popen(
            [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_port()
        (root / "home" / "config.ini").write_text(
            f"[mqtt]\nbroker_address=127.0.0.1\nbroker_port={self.port}\n[hardware]\nbackend=simulator\n"
            "[logging]\nconsole_log_level=WARNING\n"
        )
        self.env = dict(os.environ, PIO_HOME=str(root / "home"), PIO_UNIT="leader", EXPERIMENT=EXPERIMENT)
        self.db = root / "home" / "storage" / "pioreactor.sqlite"
        self.streamer: subprocess.Popen[bytes] | None = None

    def _wait_port(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("mosquitto did not start")

    def start_streamer(self) -> None:
        log = (self.root / "streamer.log").open("wb")
        self.streamer = subprocess.Popen(
            [str(PIO), "run", "mqtt_to_db_streaming"], env=self.env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # ready once its tables exist and it has subscribed
            if self.db.exists() and b"Ready." in self._state():
                return
            if self.streamer.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("the streamer did not start: " + (self.root / "streamer.log").read_text())

    def _state(self) -> bytes:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT message FROM logs WHERE task = 'mqtt_to_db_streaming'").fetchall()
            return b" ".join(r[0].encode() for r in rows)
        except sqlite3.Error:
            return b""
        finally:
            conn.close()

    def count(self, unit_like: str = "unit%") -> int:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        try:
            return int(
                conn.execute(
                    "SELECT count(*) FROM od_readings WHERE pioreactor_unit LIKE ?", (unit_like,)
                ).fetchone()[0]
            )
        finally:
            conn.close()

    def close(self) -> None:
        for proc in (self.streamer, self.broker):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def od_payload(i: int, offset_s: float = 0.0) -> str:
    stamp = (T0 + timedelta(seconds=offset_s + i * 0.001)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f'{{"timestamp":"{stamp}","angle":"90","od":{0.05 + (i % 1000) * 1e-5:.6f},"channel":"2","ir_led_intensity":85.0}}'


def start_publishers(setup: Setup, publishers: int, tag: str) -> list[subprocess.Popen[bytes]]:
    """One mosquitto_pub per unit, QoS 1, one message per line of its stdin."""
    procs = []
    for p in range(publishers):
        topic = f"pioreactor/unit{tag}{p}/{EXPERIMENT}/od_reading/od2"
        procs.append(
            subprocess.Popen(
                [MOSQUITTO_PUB or "mosquitto_pub", "-p", str(setup.port), "-q", "1", "-l", "-t", topic],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return procs


# -- (a) throughput ----------------------------------------------------------------------------
def throughput(root: Path, messages: int, publishers: int, inflight: int) -> dict[str, Any]:
    setup = Setup(root, inflight)
    try:
        setup.start_streamer()
        block = b"".join(od_payload(i).encode() + b"\n" for i in range(messages))
        total = messages * publishers
        start = time.perf_counter()
        procs = start_publishers(setup, publishers, "a")
        writers = [threading.Thread(target=_feed_all, args=(p, block)) for p in procs]
        for w in writers:
            w.start()
        published_at = None
        deadline = time.monotonic() + 300
        stored = 0
        while time.monotonic() < deadline:
            if published_at is None and all(p.poll() is not None for p in procs):
                published_at = time.perf_counter() - start
            stored = setup.count()
            if stored >= total:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        for w in writers:
            w.join()
        for p in procs:
            p.wait(30)
        time.sleep(1.0)  # anything late (a duplicate would not add rows: unique keys)
        stored = setup.count()
        usage = _cpu(setup.streamer)
        return {
            "max_inflight_messages": inflight,
            "publishers": publishers,
            "published": total,
            "stored": stored,
            "lost": total - stored,
            "seconds": round(elapsed, 3),
            "messages_per_second": round(total / elapsed),
            "publishers_done_after_s": round(published_at or elapsed, 3),
            "streamer_cpu_s": usage,
        }
    finally:
        setup.close()


def _feed_all(proc: subprocess.Popen[bytes], block: bytes) -> None:
    assert proc.stdin is not None
    proc.stdin.write(block)
    proc.stdin.close()


def _cpu(proc: subprocess.Popen[bytes] | None) -> float | None:
    if proc is None:
        return None
    try:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)
    except OSError:
        return None


# -- (b) latency -------------------------------------------------------------------------------
def latency(root: Path, samples: int, background_rate: int, publishers: int) -> dict[str, Any]:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    setup = Setup(root, 1000)
    stop = threading.Event()
    results: dict[str, Any] = {}
    try:
        setup.start_streamer()
        client = mqtt.Client(CallbackAPIVersion.VERSION2)
        client.connect("127.0.0.1", setup.port)
        client.loop_start()
        reader = sqlite3.connect(f"file:{setup.db}?mode=ro", uri=True)

        def measure(label: str, offset: float) -> None:
            times = []
            for i in range(samples):
                payload = od_payload(i, offset)
                stamp = json.loads(payload)["timestamp"]  # already in the stored form
                sent = time.perf_counter()
                client.publish(f"pioreactor/probe/{EXPERIMENT}/od_reading/od2", payload, qos=1)
                deadline = sent + 10
                while (
                    reader.execute(
                        "SELECT 1 FROM od_readings WHERE pioreactor_unit = 'probe' AND timestamp = ?",
                        (stamp,),
                    ).fetchone()
                    is None
                ):
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"a probe reading never arrived ({label})")
                    time.sleep(0.0002)
                times.append((time.perf_counter() - sent) * 1000)
                time.sleep(0.02)
            times.sort()
            results[label] = {
                "samples": len(times),
                "p50_ms": round(statistics.median(times), 2),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
                "p99_ms": round(times[int(0.99 * (len(times) - 1))], 2),
                "max_ms": round(times[-1], 2),
            }

        measure("idle", 1_000_000)
        # a steady load: each publisher gets its lines at background_rate / publishers per second
        procs = start_publishers(setup, publishers, "b")
        per_tick = max(1, background_rate // publishers // 100)

        def feed(proc: subprocess.Popen[bytes], p: int) -> None:
            i = 0
            next_tick = time.perf_counter()
            while not stop.is_set():
                chunk = b"".join(od_payload(i + k, 2_000_000).encode() + b"\n" for k in range(per_tick))
                proc.stdin.write(chunk)  # type: ignore[union-attr]
                proc.stdin.flush()  # type: ignore[union-attr]
                i += per_tick
                next_tick += 0.01
                time.sleep(max(0.0, next_tick - time.perf_counter()))
            proc.stdin.close()  # type: ignore[union-attr]

        feeders = [threading.Thread(target=feed, args=(proc, p)) for p, proc in enumerate(procs)]
        before = setup.count("unitb%")
        load_start = time.perf_counter()
        for f in feeders:
            f.start()
        time.sleep(1.0)
        measure(f"under {background_rate} msg/s", 3_000_000)
        stop.set()
        for f in feeders:
            f.join()
        for proc in procs:
            proc.wait(30)
        load_seconds = time.perf_counter() - load_start
        time.sleep(1.0)
        results["background_messages_per_second_achieved"] = round(
            (setup.count("unitb%") - before) / load_seconds
        )
        client.disconnect()
        client.loop_stop()
        reader.close()
        return results
    finally:
        stop.set()
        setup.close()


# -- (c) export, (d) backup --------------------------------------------------------------------
def build_database(db: Path, rows: int, env: dict[str, str]) -> float:
    """The tables (through the plugins' migrations) and ``rows`` od_readings rows for 4 units."""
    subprocess.run(
        [sys.executable, "-c", "from pioreactor.sdk.database import open_database; open_database().close()"],
        env=env,
        check=True,
    )
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    created = T0.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    conn.execute(
        "INSERT OR IGNORE INTO experiments (experiment, created_at, description) VALUES (?, ?, 'benchmark')",
        (EXPERIMENT, created),
    )
    start = time.perf_counter()
    batch = 100_000
    for first in range(0, rows, batch):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO od_readings VALUES (?, ?, ?, ?, 90, 2, 0)",
            (
                (
                    EXPERIMENT,
                    f"unit{i % 4}",
                    (T0 + timedelta(seconds=i * 1.25)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    0.05 + i * 1e-7,
                )
                for i in range(first, min(rows, first + batch))
            ),
        )
        conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - start


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, output) of one ``pio`` process.

    The peak is the process's own ``VmHWM``, read every 10 ms while it runs (``ru_maxrss`` of a
    child would include this process's RSS at the fork)."""
    start = time.perf_counter()
    out_path = Path(tempfile.mkstemp(prefix="pio-bench-out-")[1])
    with out_path.open("wb") as out:
        proc = subprocess.Popen([str(PIO), *args], env=env, stdout=out, stderr=subprocess.STDOUT)
        peak_kb = 0
        while proc.poll() is None:
            try:
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak_kb = max(peak_kb, int(line.split()[1]))
            except (OSError, ValueError):
                pass
            time.sleep(0.01)
    elapsed = time.perf_counter() - start
    output = out_path.read_text(errors="replace")
    out_path.unlink()
    if proc.returncode != 0:
        raise RuntimeError(f"pio {' '.join(args)} failed: {output}")
    return elapsed, peak_kb / 1024, output


def export_and_backup(root: Path, rows: int) -> dict[str, Any]:
    setup = Setup(root, 1000)
    try:
        built = build_database(setup.db, rows, setup.env)
        small_args = [
            "run",
            "export_experiment_data",
            "--experiment",
            "none",
            "--dataset-name",
            "od_readings",
        ]
        _, small_rss, _ = run_measured([*small_args, "--output", str(root / "small.zip")], setup.env)
        args = ["run", "export_experiment_data", "--experiment", EXPERIMENT, "--dataset-name", "od_readings"]
        seconds, rss, out = run_measured([*args, "--output", str(root / "export.zip")], setup.env)
        size = (root / "export.zip").stat().st_size / 1e6
        import zipfile

        with zipfile.ZipFile(root / "export.zip") as archive:
            manifest = json.loads(archive.read("manifest.json"))
        exported = manifest["datasets"][0]["rows"]
        # (d) back it up while the streamer stores a steady stream
        setup.start_streamer()
        procs = start_publishers(setup, 2, "d")
        stop = threading.Event()

        def feed(proc: subprocess.Popen[bytes]) -> None:
            i = 0
            while not stop.is_set():
                proc.stdin.write(b"".join(od_payload(i + k, 5_000_000).encode() + b"\n" for k in range(20)))  # type: ignore[union-attr]
                proc.stdin.flush()  # type: ignore[union-attr]
                i += 20
                time.sleep(0.01)
            proc.stdin.close()  # type: ignore[union-attr]

        feeders = [threading.Thread(target=feed, args=(p,)) for p in procs]
        for f in feeders:
            f.start()
        time.sleep(1.0)
        before = setup.count("unitd%")
        backup_seconds, backup_rss, backup_out = run_measured(
            ["run", "backup_database", "--output", str(root / "backup.sqlite")], setup.env
        )
        after = setup.count("unitd%")
        stop.set()
        for f in feeders:
            f.join()
        for p in procs:
            p.wait(30)
        check = sqlite3.connect(root / "backup.sqlite")
        backed_up = check.execute(
            "SELECT count(*) FROM od_readings WHERE pioreactor_unit LIKE 'unitd%'"
        ).fetchone()[0]
        integrity = check.execute("PRAGMA integrity_check").fetchone()[0]
        check.close()
        return {
            "export": {
                "rows": exported,
                "seconds": round(seconds, 2),
                "rows_per_second": round(exported / seconds),
                "peak_rss_mb": round(rss, 1),
                "peak_rss_mb_of_an_empty_export": round(small_rss, 1),
                "zip_mb": round(size, 1),
                "database_mb": round(setup.db.stat().st_size / 1e6, 1),
                "database_built_in_s": round(built, 1),
            },
            "backup_while_streaming": {
                "seconds": round(backup_seconds, 2),
                "peak_rss_mb": round(backup_rss, 1),
                "streamed_rows_before_during_after": [before, backed_up, after],
                "integrity_check": integrity,
                "output": backup_out.strip(),
            },
        }
    finally:
        setup.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=50_000, help="messages per publisher in (a)")
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--rows", type=int, default=1_000_000, help="od_readings rows in (c)")
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--background-rate", type=int, default=5_000, help="msg/s of load during (b)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--skip", nargs="*", default=[], choices=["throughput", "latency", "export"])
    args = parser.parse_args()
    if MOSQUITTO_PUB is None:
        sys.exit("mosquitto_pub is needed (apt-get install mosquitto-clients)")
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory(prefix="pio-data-bench-") as tmp:
        root = Path(tmp)
        if "throughput" not in args.skip:
            results["throughput"] = [
                throughput(root / f"a{inflight}", args.messages, args.publishers, inflight)
                for inflight in (20, 1000)
            ]
            for r in results["throughput"]:
                print(
                    f"(a) max_inflight_messages {r['max_inflight_messages']:>4}: {r['published']} messages from "
                    f"{r['publishers']} publishers in {r['seconds']} s = {r['messages_per_second']} msg/s, "
                    f"lost {r['lost']}, streamer CPU {r['streamer_cpu_s']} s",
                    flush=True,
                )
        if "latency" not in args.skip:
            results["latency"] = latency(
                root / "b", args.latency_samples, args.background_rate, args.publishers
            )
            for label, figures in results["latency"].items():
                print(f"(b) publish -> committed, {label}: {figures}", flush=True)
        if "export" not in args.skip:
            results.update(export_and_backup(root / "c", args.rows))
            print(f"(c) export: {results['export']}", flush=True)
            print(f"(d) backup: {results['backup_while_streaming']}", flush=True)
    print(f"this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

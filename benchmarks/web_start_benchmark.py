"""How long `pio run web_server` takes to answer: from the spawn until ``/unit_api/health`` says
200, the median of several starts (issue 17: nothing gets slower, the web server's start included).

Self-contained like run_benchmarks.py: its own mosquitto, a throw-away PIO_HOME per `pio`, the
simulator. Give several `pio` executables (e.g. another checkout's) to time them side by side,
their starts alternating so that the machine's load hits them alike. Usage:
``.venv/bin/python benchmarks/web_start_benchmark.py [--runs N] [PIO ...]``.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_benchmarks  # noqa: E402
from run_benchmarks import free_port, make_env, start_broker, wait_or_kill  # noqa: E402

TIMEOUT_S = 30.0


def start_ms(pio: Path, env: dict[str, str], port: int) -> float:
    """One start: spawn until the health route answers 200, then SIGTERM."""
    started = time.perf_counter()
    proc = subprocess.Popen([str(pio), "run", "web_server"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/unit_api/health", timeout=1) as answer:
                    if answer.status == 200:
                        return (time.perf_counter() - started) * 1000.0
            except OSError:
                if proc.poll() is not None or time.perf_counter() - started > TIMEOUT_S:
                    raise RuntimeError(f"{pio} run web_server did not answer within {TIMEOUT_S} s") from None
                time.sleep(0.005)  # polling the port: the start has no event to wait on from outside
    finally:
        proc.send_signal(signal.SIGTERM)
        wait_or_kill(proc, 20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="starts per pio (default 7)")
    parser.add_argument("pio", nargs="*", type=Path, help="pio executables to compare (default: this checkout's)")
    args = parser.parse_args()
    pios = [p.absolute() for p in args.pio] or [run_benchmarks.PIO]
    with tempfile.TemporaryDirectory(prefix="pio-web-start-") as tmp_name:
        tmp = Path(tmp_name)
        broker, mqtt_port = start_broker(tmp)
        try:
            setups: list[tuple[Path, dict[str, str], int, list[float]]] = []
            for i, pio in enumerate(pios):
                folder = tmp / f"pio{i}"
                folder.mkdir()
                env = make_env(folder, mqtt_port) | {"PIO_NO_FORK_SERVER": "1"}
                port = free_port()
                with (Path(env["PIO_HOME"]) / "config.ini").open("a") as config:
                    config.write(f"\n[web]\nport={port}\n")
                start_ms(pio, env, port)  # warm-up: .pyc files, the plugin index, the database
                setups.append((pio, env, port, []))
            for _ in range(args.runs):
                for pio, env, port, samples in setups:
                    samples.append(start_ms(pio, env, port))
        finally:
            broker.terminate()
            broker.wait(10)
    for pio, _, _, samples in setups:
        print(f"{pio}: web server answers after {statistics.median(samples):.0f} ms (median of {len(samples)}, min {min(samples):.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A whole cluster on one machine: a leader and N simulated workers, one broker.

Each unit gets its own PIO_HOME (under ``.cluster/<unit>``), unit name, simulated vial, fork
server (``pio fork-server``: its jobs start fast) and web server on a free port of 127.0.0.1; the leader adds the workers to its inventory. Then ``pios``
and ``pio workers`` work from the leader's environment (printed, and written to
``.cluster/leader.env``). Ctrl-C stops every process this script started.

Usage: ``make cluster`` or ``.venv/bin/python scripts/local_cluster.py [--workers 2]
[--broker-port 1883] [--dir .cluster]``. The broker must be running (``make broker``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIO = [sys.executable, "-m", "pioreactor.kernel.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Unit:
    name: str
    home: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def env(self, experiment: str) -> dict[str, str]:
        return {**os.environ, "PIO_HOME": str(self.home), "PIO_UNIT": self.name, "EXPERIMENT": experiment}


@dataclass
class LocalCluster:
    folder: Path
    workers: int = 2
    broker_host: str = "127.0.0.1"
    broker_port: int = 1883
    experiment: str = "cluster_demo"
    units: list[Unit] = field(default_factory=list)
    #: the leader first, then the workers (default: leader, worker1, worker2, ...)
    names: list[str] = field(default_factory=list)
    #: a unit's whole config.ini (default: the broker, the simulator and the leader's name)
    config_for: Callable[[str], str] | None = None
    #: start `pio run cluster_follower` on each worker (the experiment assignment it keeps)
    followers: bool = True
    #: start each unit's fork server (`pio fork-server start`): jobs start in a fraction of the time
    fork_servers: bool = True

    @property
    def leader(self) -> Unit:
        return self.units[0]

    def __post_init__(self) -> None:
        if not self.names:
            self.names = ["leader"] + [f"worker{i}" for i in range(1, self.workers + 1)]

    def config(self, name: str) -> str:
        if self.config_for is not None:
            return self.config_for(name)
        return (
            f"[mqtt]\nbroker_address={self.broker_host}\nbroker_port={self.broker_port}\n\n"
            f"[hardware]\nbackend=simulator\n\n[cluster]\nleader_hostname={self.names[0]}\n\n"
            # every unit is on 127.0.0.1: nothing for the network to discover
            "[mdns]\nadvertise=0\n"
        )

    def prepare(self) -> None:
        """Fresh homes with their config.ini (nothing runs yet)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.units = []
        for name in self.names:
            unit = Unit(name, self.folder / name, free_port())
            unit.home.mkdir(parents=True)
            (unit.home / "config.ini").write_text(self.config(name))
            self.units.append(unit)

    def start(self, timeout: float = 30.0) -> None:
        """A web server per unit (homes made by :meth:`prepare` unless done already), every worker
        added to the leader's inventory."""
        if not self.units:
            self.prepare()
        if self.fork_servers:  # before the web servers: the jobs they start fork from it
            for unit in self.units:
                self.pio("fork-server", "start", "--background", unit=unit)
        for unit in self.units:
            log = open(unit.home / "web_server.out", "w")  # noqa: SIM115 (the process keeps it)
            unit.process = subprocess.Popen(
                [*PIO, "run", "web_server", "--host", "127.0.0.1", "--port", str(unit.port)],
                env=unit.env(self.experiment),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        for unit in self.units:
            self.wait_healthy(unit, timeout)
        for unit in self.units[1:]:
            self.pio("workers", "add", unit.name, "--address", unit.address)
            if not self.followers:
                continue
            # keeps the leader's experiment assignment of the worker (docs/cluster.md)
            follower = open(unit.home / "cluster_follower.out", "w")  # noqa: SIM115 (the process keeps it)
            subprocess.Popen(
                [*PIO, "run", "cluster_follower"],
                env={**unit.env(self.experiment), "EXPERIMENT": ""},
                stdout=follower,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @staticmethod
    def wait_healthy(unit: Unit, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://{unit.address}/unit_api/health", timeout=1.0) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if unit.process is not None and unit.process.poll() is not None:
                raise RuntimeError(f"{unit.name}'s web server exited; see {unit.home / 'web_server.out'}")
            time.sleep(0.05)  # polling a port that is not open yet: there is no event to wait on
        raise TimeoutError(f"{unit.name}'s web server did not answer within {timeout} s")

    def pio(self, *args: str, check: bool = True, unit: Unit | None = None) -> subprocess.CompletedProcess[str]:
        """``pio ARGS`` as the leader (or as ``unit``)."""
        env = (unit or self.leader).env(self.experiment)
        return subprocess.run([*PIO, *args], env=env, capture_output=True, text=True, check=check)

    def pios(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``pios ARGS`` as the leader."""
        command = [sys.executable, "-c", "from pioreactor.plugins_core.cluster.pios import main; main()", *args]
        return subprocess.run(command, env=self.leader.env(self.experiment), capture_output=True, text=True)

    def stop_worker_server(self, unit: Unit) -> None:
        if unit.process is not None and unit.process.poll() is None:
            unit.process.send_signal(signal.SIGTERM)
            unit.process.wait(15)

    def stop(self) -> None:
        """Stop every job of every unit (the followers too), then the web servers."""
        for unit in self.units:
            subprocess.run([*PIO, "kill", "--all-jobs"], env=unit.env(self.experiment), capture_output=True, timeout=30)
            subprocess.run([*PIO, "kill", "--job-name", "cluster_follower"], env=unit.env(self.experiment), capture_output=True, timeout=30)
        for unit in self.units:
            self.stop_worker_server(unit)
        if self.fork_servers:
            for unit in self.units:
                self.pio("fork-server", "stop", check=False, unit=unit)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--broker-port", type=int, default=1883)
    parser.add_argument("--dir", type=Path, default=ROOT / ".cluster")
    args = parser.parse_args()
    cluster = LocalCluster(args.dir.resolve(), args.workers, broker_port=args.broker_port)
    try:
        cluster.start()
        env_file = cluster.folder / "leader.env"
        env_file.write_text(f"export PIO_HOME={cluster.leader.home}\nexport PIO_UNIT=leader\nexport EXPERIMENT={cluster.experiment}\n")
        for unit in cluster.units:
            print(f"{unit.name:<10} http://{unit.address}   PIO_HOME={unit.home}")
        print(f"\nIn another shell: source {env_file}; then e.g. `pios run stirring -y`, `pio workers status`.")
        print("Ctrl-C stops the cluster.")
        while not stopping.wait(0.5):
            pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        cluster.stop()
    return 0


# a handler, not a blocked signal: a blocked SIGTERM would be inherited by every web server and
# job started from here, and `pio kill` could not stop them
stopping = threading.Event()

if __name__ == "__main__":
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stopping.set())
    sys.exit(main())

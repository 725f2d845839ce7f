"""pytest fixtures for testing Pioreactor code and plugins against real parts.

Installed as a pytest plugin (entry point ``pytest11``), so any test in an environment with
``pioreactor`` installed can use:

* ``mosquitto_broker``: a real Mosquitto on a free port of 127.0.0.1 (one per test session);
* ``pio_home``: a fresh ``$PIO_HOME`` whose config points at that broker and the simulator,
  with a unit name of its own so retained topics of different tests never mix;
* ``mqtt_probe``: records every ``pioreactor/#`` message; ``wait_for(topic, ...)`` blocks until
  a matching one arrives (no sleeps);
* ``run_job``: starts ``pio run NAME ARGS...`` in a subprocess and stops it at teardown.

This module imports only pytest and the standard library at import time, because pytest loads
it in every test run of the environment.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from pioreactor.sdk.plugins import pio_command

#: how long a test waits for an event before failing: waits end as soon as the event arrives, so
#: this only needs to cover a job starting on a busy machine (seconds there, not milliseconds)
DEFAULT_TIMEOUT = 30.0
_unit_numbers = count(1)


# -- the broker ------------------------------------------------------------------------------
@dataclass
class Broker:
    host: str
    port: int
    config_path: Path
    process: subprocess.Popen[bytes] | None = None
    #: the WebSockets listener the browser UI connects to ([mqtt] broker_ws_port)
    ws_port: int | None = None

    def start(self) -> None:
        executable = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(executable).exists():
            pytest.fail("mosquitto is not installed: `make test` installs it (apt-get install mosquitto)")
        self.process = subprocess.Popen(
            [executable, "-c", str(self.config_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_for_port(self.host, self.port, timeout=10.0)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


_issued_ports: set[int] = set()
_random = random.SystemRandom()  # not the seeded `random`: concurrent sessions must not agree


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a broker or server this test starts.

    Picked at random below the kernel's ephemeral range (32768 on), which the tests' own outgoing
    connections draw from: a port the OS hands out may be handed out again before the server
    binds it. Random, so xdist workers and concurrent sessions do not pick the same one; never
    the same one twice in this process."""
    for _ in range(500):
        port = _random.randrange(15000, 32000)
        if port in _issued_ports:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _issued_ports.add(port)
        return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout} s")


def start_broker(folder: Path) -> Broker:
    """Mosquitto on free ports of 127.0.0.1: MQTT, and MQTT over WebSockets for browsers."""
    port, ws_port = free_port(), free_port()
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "mosquitto.conf"
    config.write_text(
        f"per_listener_settings false\nallow_anonymous true\npersistence false\n"
        f"listener {port} 127.0.0.1\nlistener {ws_port} 127.0.0.1\nprotocol websockets\n"
    )
    broker = Broker("127.0.0.1", port, config, ws_port=ws_port)
    broker.start()
    _wait_for_port("127.0.0.1", ws_port, timeout=10.0)
    return broker


@pytest.fixture(scope="session")
def mosquitto_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A real Mosquitto broker for the whole session."""
    broker = start_broker(tmp_path_factory.mktemp("mosquitto"))
    yield broker
    broker.stop()


# -- PIO_HOME --------------------------------------------------------------------------------
@dataclass
class PioHome:
    path: Path
    unit: str
    experiment: str
    broker: Broker

    @property
    def config_path(self) -> Path:
        return self.path / "config.ini"

    def write_config(self, extra: str = "") -> None:
        """Rewrite config.ini: broker, simulator backend, plus ``extra`` INI text."""
        self.config_path.write_text(
            f"[mqtt]\nbroker_address={self.broker.host}\nbroker_port={self.broker.port}\n"
            f"broker_ws_port={self.broker.ws_port or 9001}\n\n"
            "[hardware]\nbackend=simulator\n\n[logging]\nconsole_log_level=DEBUG\n\n"
            # tests share a network with other runs: no mDNS unless a test asks for it
            + ("" if "[mdns]" in extra else "[mdns]\nadvertise=0\n\n")
            + extra
        )

    def topic(self, *parts: str) -> str:
        return "/".join(["pioreactor", self.unit, self.experiment, *parts])

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(PIO_HOME=str(self.path), PIO_UNIT=self.unit, EXPERIMENT=self.experiment)
        env.update(extra)
        return env


def reset_process_state() -> None:
    """Forget this process's cached config, clock, bus and plugins (between tests)."""
    from pioreactor.kernel import bus, clock, config, hardware, plugins, storage

    storage.forget_connections()
    config.set_config(None)
    clock.set_clock(None)
    bus.set_bus(None)
    hardware._backend = None
    plugins.reset_plugin_host()


@pytest.fixture
def pio_home(tmp_path: Path, mosquitto_broker: Broker, monkeypatch: pytest.MonkeyPatch) -> Iterator[PioHome]:
    """A temporary ``$PIO_HOME`` (config pointing at the test broker and the simulator)."""
    home = PioHome(tmp_path / "pio_home", f"unit{next(_unit_numbers)}-{os.getpid()}", "test_experiment", mosquitto_broker)
    home.path.mkdir()
    home.write_config()
    monkeypatch.setenv("PIO_HOME", str(home.path))
    monkeypatch.setenv("PIO_UNIT", home.unit)
    monkeypatch.setenv("EXPERIMENT", home.experiment)
    reset_process_state()
    yield home
    stop_leftover_jobs(home)
    reset_process_state()


def stop_leftover_jobs(home: PioHome, timeout: float = 10.0) -> None:
    """SIGTERM (then SIGKILL) every job still registered in ``home``: jobs that a test started
    indirectly (through the web server, a profile...) live in sessions of their own."""
    from pioreactor.kernel.job_registry import RunningJobs

    path = home.path / "storage" / "jobs.sqlite"
    if not path.exists():
        return
    with RunningJobs(path) as registry:
        pids = [record.pid for record in registry.running() if record.pid != os.getpid()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _alive(pid)]
        time.sleep(0.02)
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] not in ("Z", "X")
    except OSError:
        return True


# -- watching MQTT ---------------------------------------------------------------------------
@dataclass
class Seen:
    topic: str
    payload: str
    retain: bool
    at: float


@dataclass
class MqttProbe:
    """Records messages under ``topic_filter``; tests wait on them instead of sleeping."""

    broker: Broker
    topic_filter: str = "pioreactor/#"
    messages: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda c, *_: c.subscribe(self.topic_filter, qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(self.broker.host, self.broker.port)
        self.client.loop_start()
        if not self._subscribed.wait(DEFAULT_TIMEOUT):
            raise TimeoutError("the MQTT probe could not subscribe")

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        with self._changed:
            self.messages.append(Seen(msg.topic, msg.payload.decode("utf-8", "replace"), bool(msg.retain), time.monotonic()))
            self._changed.notify_all()

    def wait_for(
        self,
        topic: str,
        predicate: str | Callable[[str], bool] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        since: int = 0,
        retained: bool | None = None,
    ) -> Seen:
        """The first message (from index ``since``) on ``topic`` (fnmatch pattern) matching ``predicate``.

        ``predicate`` is an exact payload or a function of the payload; ``retained`` filters on
        the retain flag. Raises TimeoutError listing what was seen on that topic.
        """

        def matches(seen: Seen) -> bool:
            if not fnmatch(seen.topic, topic):
                return False
            if retained is not None and seen.retain != retained:
                return False
            if predicate is None:
                return True
            return seen.payload == predicate if isinstance(predicate, str) else bool(predicate(seen.payload))

        deadline = time.monotonic() + timeout
        index = since
        with self._changed:
            while True:
                while index < len(self.messages):
                    seen = self.messages[index]
                    index += 1
                    if matches(seen):
                        return seen
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    payloads = [m.payload for m in self.messages if fnmatch(m.topic, topic)]
                    raise TimeoutError(f"no matching message on {topic} within {timeout} s; saw {payloads[-10:]}")
                self._changed.wait(remaining)

    def wait_for_count(self, topic: str, count: int, *, since: int = 0, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
        """Wait until ``count`` messages (from index ``since``) arrived on ``topic``; their payloads.

        Messages on different topics may arrive in any order: wait for the ones you assert on.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(seen := [m.payload for m in self.messages[since:] if fnmatch(m.topic, topic)]) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(seen)} of {count} messages on {topic} within {timeout} s; saw {seen[-10:]}")
                self._changed.wait(remaining)
            return seen

    def mark(self) -> int:
        """An index to pass as ``since=`` to only consider messages arriving from now on."""
        with self._changed:
            return len(self.messages)

    def payloads(self, topic: str, since: int = 0) -> list[str]:
        """Payloads seen on ``topic`` (fnmatch pattern), from message index ``since`` on."""
        with self._changed:
            return [m.payload for m in self.messages[since:] if fnmatch(m.topic, topic)]

    def publish(self, topic: str, payload: str, *, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(DEFAULT_TIMEOUT)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def mqtt_probe(pio_home: PioHome) -> Iterator[MqttProbe]:
    probe = MqttProbe(pio_home.broker)
    yield probe
    probe.close()


# -- running jobs ----------------------------------------------------------------------------
@dataclass
class JobProcess:
    """``pio run NAME ...`` in a subprocess; its output goes to files in the test's folder."""

    name: str
    process: subprocess.Popen[str]
    home: PioHome
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_state(self, probe: MqttProbe, state: str, *, timeout: float = DEFAULT_TIMEOUT, since: int = 0) -> Seen:
        return probe.wait_for(self.home.topic(self.name, "$state"), state, timeout=timeout, since=since)

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{self.name} did not exit within {timeout} s; output:\n{self.output()}") from None

    def stop(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.wait(timeout)


@pytest.fixture
def run_job(pio_home: PioHome) -> Iterator[Callable[..., JobProcess]]:
    """``run_job("stirring", "--target-rpm", "400")`` starts ``pio run`` in a subprocess."""
    started: list[JobProcess] = []

    def start(name: str, *args: str, env: dict[str, str] | None = None, run_options: tuple[str, ...] = ()) -> JobProcess:
        job = start_job(pio_home, name, *args, env=env, run_options=run_options, log_name=f"{name}-{len(started)}.out")
        started.append(job)
        return job

    yield start
    for job in started:
        if job.process.poll() is None:
            job.process.kill()
            job.process.wait(5)


def start_job(
    home: PioHome,
    name: str,
    *args: str,
    env: dict[str, str] | None = None,
    run_options: tuple[str, ...] = (),
    log_name: str | None = None,
) -> JobProcess:
    """``pio run name *args`` as the unit ``home`` (its PIO_HOME, unit and experiment), its
    output in ``home/<log_name>``; the caller stops it (the ``run_job`` fixture does)."""
    log_path = home.path / (log_name or f"{name}.out")
    with open(log_path, "w") as out:
        process = subprocess.Popen(
            pio_command("run", *run_options, name, *args),
            env=home.env(**(env or {})),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return JobProcess(name, process, home, log_path)


@pytest.fixture
def pio(pio_home: PioHome) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run a ``pio`` command to completion: ``pio("jobs", "list", "--json")``."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            pio_command(*args), env=pio_home.env(**(env or {})), capture_output=True, text=True, timeout=timeout
        )

    return run

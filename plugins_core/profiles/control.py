"""How a profile acts on units: start jobs, change their settings and states, stop what it started.

:class:`JobControl` is the seam: :class:`LocalJobControl` serves a single-unit setup by
spawning ``pio run`` on this machine and talking MQTT; a cluster implementation (the leader's
HTTP API to each worker) implements the same methods and the executor does not change.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from pioreactor.plugins_core.profiles.evaluate import format_value
from pioreactor.plugins_core.profiles.interfaces import JobInterface
from pioreactor.sdk import plugins as sdk_plugins

JOB_SOURCE = "experiment_profile"
READY_STATES = ("ready", "sleeping")
STOP_TIMEOUT_SECONDS = 10.0
#: how long (real seconds) an update or a state change waits for the job to publish the result
CONFIRM_TIMEOUT_SECONDS = 5.0


class ControlError(RuntimeError):
    """An action that could not be carried out (the message says why)."""


class JobControl(Protocol):
    """What the executor needs from the units of an experiment."""

    def units(self) -> list[str]:
        """Units that take part in the experiment now (the ``common`` block runs on each)."""
        ...

    def reachable(self, unit: str) -> bool:
        """Whether actions for ``unit`` can be carried out from here."""
        ...

    def start(self, unit: str, job: str, options: dict[str, Any], args: list[str], config_overrides: list[tuple[str, str, Any]]) -> str:
        """Start ``job`` on ``unit`` (attributed to experiment profiles); returns what was run."""
        ...

    def set_state(self, unit: str, job: str, state: str) -> bool:
        """Ask a running job to become ``ready``, ``sleeping`` or ``disconnected``; True once it has."""
        ...

    def update(self, unit: str, job: str, settings: dict[str, Any]) -> list[str]:
        """Change settings of a running job; the settings it did not confirm (none, normally)."""
        ...

    def set_label(self, unit: str, label: str) -> None:
        """Give ``unit`` a label for this experiment."""
        ...

    def wait_until_ready(self, unit: str, job: str, timeout: float) -> bool:
        """For a job this run started: wait (real seconds) until it runs; True at once otherwise."""
        ...

    def stop_started(self) -> list[str]:
        """Stop every job this run started that still runs; refuse new starts. Returns their names."""
        ...


def cli_arguments(interface: JobInterface | None, options: dict[str, Any]) -> list[str]:
    """``{"target_rpm": 400, "use_rpm": False}`` as ``--target-rpm 400 --no-use-rpm``.

    Flags follow the job's own options when it is known (``--A`` for led_intensity's ``A``);
    ``automation_name`` goes first, as ``pio run <kind>_automation`` reads it before the rest.
    """
    arguments: list[str] = []
    ordered = sorted(options.items(), key=lambda item: item[0] != "automation_name")
    for key, value in ordered:
        info = interface.option(str(key)) if interface is not None else None
        flag = info.flag if info is not None else "--" + str(key).replace("_", "-")
        if info is not None and info.is_flag:
            on = value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")
            if on:
                arguments.append(flag)
            elif info.off_flag:
                arguments.append(info.off_flag)
            continue
        if value is None:
            continue
        text = json.dumps(value) if isinstance(value, (dict, list)) else format_value(value)
        arguments += [flag, text]
    return arguments


def setting_payload(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (dict, list)) else format_value(value)


@dataclass
class StartedJob:
    unit: str
    job: str
    process: subprocess.Popen[str]
    argv: list[str]
    stderr_tail: deque[str] = field(default_factory=lambda: deque(maxlen=12))


class LocalJobControl:
    """A single-unit setup: jobs run on this machine (``pio run`` in a subprocess), settings and
    states go over this run's MQTT client."""

    def __init__(self, bus: Any, unit: str, experiment: str, logger: Any, interfaces: Any) -> None:
        self.bus = bus
        self.unit = unit
        self.experiment = experiment
        self.logger = logger
        #: callable (job, options) -> JobInterface | None, to turn options into flags
        self.interfaces = interfaces
        self.started: list[StartedJob] = []
        self._closing = False
        self._lock = threading.Lock()
        self._states: dict[str, str] = {}
        self._fresh: dict[str, int] = {}  # publications seen live (not the retained replay) per topic
        self._state_changed = threading.Condition()
        self._watched: set[str] = set()

    # -- where ---------------------------------------------------------------------------
    def units(self) -> list[str]:
        return [self.unit] if sdk_plugins.is_unit_active() else []

    def reachable(self, unit: str) -> bool:
        return unit == self.unit

    def _topic(self, unit: str, job: str, *rest: str) -> str:
        return "/".join(("pioreactor", unit, self.experiment, job, *rest))

    # -- starting ------------------------------------------------------------------------
    def start(self, unit: str, job: str, options: dict[str, Any], args: list[str], config_overrides: list[tuple[str, str, Any]]) -> str:
        self._check_unit(unit)
        overrides: list[str] = []
        for section, key, value in config_overrides:
            overrides += ["--config-override", section, key, format_value(value)]
        argv = sdk_plugins.pio_command("run", *overrides, job, *cli_arguments(self.interfaces(job, options), options), *map(str, args))
        env = dict(os.environ, JOB_SOURCE=JOB_SOURCE, EXPERIMENT=self.experiment, PIO_UNIT=unit)
        self._watch_state(unit, job)
        with self._lock:
            if self._closing:
                raise ControlError("the profile is stopping: no new jobs")
            process = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,  # Ctrl-C reaches the profile, which stops its jobs in order
            )
            started = StartedJob(unit, job, process, argv)
            self.started.append(started)
        threading.Thread(target=self._follow, args=(started,), name=f"follow-{job}", daemon=True).start()
        return " ".join(["pio", *argv[3:]])

    def _follow(self, started: StartedJob) -> None:
        """Keep the end of the job's stderr; say why it ended when it failed."""
        assert started.process.stderr is not None
        for line in started.process.stderr:
            started.stderr_tail.append(line.rstrip())
        code = started.process.wait()
        with self._state_changed:
            self._state_changed.notify_all()
        if code != 0 and not self._closing:
            errors = [line for line in started.stderr_tail if "Error" in line or "error" in line.lower()]
            reason = (errors or list(started.stderr_tail) or ["(no output)"])[-1]
            self.logger.warning("%s on %s exited with code %d: %s", started.job, started.unit, code, reason)

    # -- states and settings -------------------------------------------------------------
    def _watch_state(self, unit: str, job: str) -> None:
        self._watch(self._topic(unit, job, "$state"))

    def _watch(self, topic: str) -> None:
        """Follow a topic: its latest payload, and how many live publications arrived."""
        with self._state_changed:
            if topic in self._watched:
                return
            self._watched.add(topic)
            self._fresh[topic] = 0

        def remember(message: Any) -> None:
            with self._state_changed:
                self._states[topic] = message.text()
                if not message.retain:
                    self._fresh[topic] += 1
                self._state_changed.notify_all()

        # subscribed before anything is sent on this connection: the job's answer comes live
        # (retain flag unset), after the retained replay
        self.bus.subscribe(topic, remember, qos=1)

    def _wait(self, predicate: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._state_changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closing:
                    return bool(predicate())
                self._state_changed.wait(min(remaining, 0.5))
        return True

    def wait_until_ready(self, unit: str, job: str, timeout: float) -> bool:
        topic = self._topic(unit, job, "$state")
        ours = [s for s in self.started if s.unit == unit and s.job == job]
        if not ours:
            return True  # not ours: it runs, or it does not, as the user left it
        latest = ours[-1]
        return self._wait(lambda: self._states.get(topic) in READY_STATES or latest.process.poll() is not None, timeout) and (
            self._states.get(topic) in READY_STATES
        )

    def set_state(self, unit: str, job: str, state: str) -> bool:
        self._check_unit(unit)
        topic = self._topic(unit, job, "$state")
        self._watch(topic)
        self.bus.publish(topic + "/set", state, qos=1)
        return self._wait(lambda: self._states.get(topic) == state, CONFIRM_TIMEOUT_SECONDS)

    def update(self, unit: str, job: str, settings: dict[str, Any]) -> list[str]:
        """Publish each ``<setting>/set``, then wait until the job published each setting anew
        (so the next action reads the new values); a job refusing a value never does."""
        self._check_unit(unit)
        sent: dict[str, tuple[str, int]] = {}
        for key, value in settings.items():
            topic = self._topic(unit, job, str(key))
            self._watch(topic)
            with self._state_changed:
                sent[str(key)] = (topic, self._fresh[topic])
            self.bus.publish(topic + "/set", setting_payload(value), qos=1)
        deadline = time.monotonic() + CONFIRM_TIMEOUT_SECONDS
        unconfirmed = []
        for key, (topic, before) in sent.items():
            if not self._wait(lambda t=topic, b=before: self._fresh[t] > b, max(0.0, deadline - time.monotonic())):
                unconfirmed.append(key)
        return unconfirmed

    def set_label(self, unit: str, label: str) -> None:
        self.bus.publish(f"pioreactor/{unit}/{self.experiment}/unit_label", label, qos=1, retain=True)

    def _check_unit(self, unit: str) -> None:
        if not self.reachable(unit):
            raise ControlError(f"{unit} is not this unit ({self.unit}); a single-unit setup acts on {self.unit} only")

    # -- stopping ------------------------------------------------------------------------
    def stop_started(self) -> list[str]:
        with self._lock:
            self._closing = True
            running = [s for s in self.started if s.process.poll() is None]
        with self._state_changed:
            self._state_changed.notify_all()
        for started in running:
            try:
                os.kill(started.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for started in running:
            try:
                started.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.logger.warning("%s (pid %d) has not stopped yet.", started.job, started.process.pid)
        return [s.job for s in running]

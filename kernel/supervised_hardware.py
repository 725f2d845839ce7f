"""The backend as jobs see it: every PWM and LED change is recorded with the job that made it
(``outputs.py``), and every PWM change is published on ``pwms/channel_dc``.

``get_hardware()`` wraps whatever backend plugin is active in a :class:`SupervisedBackend`, so
a backend needs to do nothing for this. The monitor finds outputs whose job died without its
clean-up and switches them off with :func:`switch_off_orphan`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from pioreactor.kernel import identity, outputs
from pioreactor.kernel.clock import get_clock
from pioreactor.kernel.config import get_config

#: any frequency will do to hold an output at 0 %
SWITCH_OFF_HZ = 100.0
log = logging.getLogger("pioreactor.hardware")


_warned: set[str] = set()


def _warn_once(what: str, err: Exception) -> None:
    if what not in _warned:
        _warned.add(what)
        log.warning("Could not %s (%s): the hardware change was made all the same.", what, err)


def change_and_record(change: Callable[[], Any], kind: str, channel: str, device: str, value: float) -> outputs.OutputRecord | None:
    """Make a hardware change and record it (None if the record could not be written).

    A switch-on is recorded (committed) before it is made: a job killed in between leaves a row
    that says "on" for an output that is off, which the monitor switches off harmlessly, never an
    output on that no row names. The record also names the new holder before the output goes on,
    so the monitor never switches off a new job's output on the strength of a dead job's row. A
    switch-off goes to the hardware first: waiting for the record's lock must not lengthen a dose.
    The record is the monitor's aid, never in the way: if it cannot be written (a full disk), the
    change is made all the same."""
    record: outputs.OutputRecord | None = None
    if value > 0:
        try:
            with outputs.transaction():
                record = outputs.record(kind, channel, device, value)
        except sqlite3.Error as err:
            _warn_once(f"record {kind} {channel} for the monitor", err)
        change()
        return record
    change()
    try:
        with outputs.transaction():
            return outputs.record(kind, channel, device, value)
    except sqlite3.Error as err:
        _warn_once(f"record {kind} {channel} for the monitor", err)
        return None


def publish_pwm_state(experiment: str | None = None) -> None:
    """``pioreactor/<unit>/<experiment>/pwms/channel_dc`` (retained): every channel's duty cycle.

    Published on this process's bus if it has one (a process without one drives no job); a
    failure is logged once and never gets in the way of the change itself."""
    try:
        _publish_pwm_state(experiment)
    except Exception as err:
        _warn_once("publish pwms/channel_dc", err)


def _publish_pwm_state(experiment: str | None) -> None:
    from pioreactor.kernel import bus as bus_module

    bus = bus_module._process_bus
    if bus is None:
        return
    if experiment is None:
        holder = outputs.current_holder()
        experiment = holder.experiment if holder is not None else identity.get_assigned_experiment()
    channels = {channel: 0.0 for channel in get_config().section("PWM")}
    channels.update(outputs.pwm_duty_cycles())
    payload = {"timestamp": get_clock().utc_timestamp(), "channels": dict(sorted(channels.items()))}
    unit = identity.get_unit_name()
    bus.publish(f"pioreactor/{unit}/{experiment}/pwms/channel_dc", json.dumps(payload), qos=1, retain=True)


class SupervisedPwm:
    """A backend's PWM output whose changes are recorded and published."""

    def __init__(self, inner: Any, channel: str, device: str, backend: SupervisedBackend) -> None:
        self.inner = inner
        self.channel = channel
        self.device = device
        self.backend = backend
        #: publish under this experiment instead of the holder's (the monitor, for a dead job's)
        self.publish_experiment: str | None = None

    @property
    def duty_cycle(self) -> float:
        return float(self.inner.duty_cycle)

    def set_duty_cycle(self, duty_cycle: float) -> None:
        record = change_and_record(
            lambda: self.inner.set_duty_cycle(duty_cycle), outputs.PWM, self.channel, self.device, duty_cycle
        )
        publish_pwm_state(self.publish_experiment or (record.experiment if record else None))

    def set_duty_cycle_for(self, duty_cycle: float, seconds: float) -> bool:
        """Switch on for ``seconds``, the deadline kept by the backend itself when it can (the
        simulator's pumps stop on simulated time, whatever this process does); False if it
        cannot, and then only the duty cycle is set. Recorded like `set_duty_cycle`."""
        timed = getattr(self.inner, "set_duty_cycle_for", None)
        kept = False

        def change() -> None:
            nonlocal kept
            if timed is None:
                self.inner.set_duty_cycle(duty_cycle)
            else:
                kept = bool(timed(duty_cycle, seconds))

        record = change_and_record(change, outputs.PWM, self.channel, self.device, duty_cycle)
        publish_pwm_state(self.publish_experiment or (record.experiment if record else None))
        return kept

    def off(self) -> None:
        self.set_duty_cycle(0.0)

    def close(self) -> None:
        change_and_record(self.inner.close, outputs.PWM, self.channel, self.device, 0.0)
        self.backend.forget(self)
        publish_pwm_state(self.publish_experiment)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class SupervisedLedDriver:
    """A backend's LED driver whose changes are recorded."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def set_intensity(self, channel: str, percent: float) -> None:
        change_and_record(lambda: self.inner.set_intensity(channel, percent), outputs.LED, channel, "", percent)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class SupervisedBackend:
    """Wraps a backend plugin's object; everything but its outputs passes straight through."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "")
        self._open: list[SupervisedPwm] = []
        self._lock = threading.Lock()

    def pwm(self, channel: str, hz: float) -> SupervisedPwm:
        from pioreactor.kernel.hardware import device_on_pwm_channel

        pwm = SupervisedPwm(self.inner.pwm(channel, hz), channel, device_on_pwm_channel(channel), self)
        with self._lock:
            self._open.append(pwm)
        return pwm

    def forget(self, pwm: SupervisedPwm) -> None:
        with self._lock:
            if pwm in self._open:
                self._open.remove(pwm)

    def led_driver(self) -> SupervisedLedDriver:
        return SupervisedLedDriver(self.inner.led_driver())

    def close(self) -> None:
        with self._lock:
            still_open = list(self._open)
        for pwm in still_open:  # off through the record, not behind its back
            pwm.close()
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def switch_off_orphan(record: outputs.OutputRecord) -> bool:
    """Switch off an output that ``record`` says a dead job left on; False (and nothing done)
    if, by now, it is off or held by a live job."""
    from pioreactor.kernel.hardware import get_hardware

    with outputs.transaction():
        now = outputs.get(record.output)
        if now is None or not now.is_orphan() or now.holder != record.holder:
            return False
        backend = get_hardware()
        if record.kind == outputs.PWM:
            pwm = backend.pwm(record.channel, SWITCH_OFF_HZ)
            assert isinstance(pwm, SupervisedPwm)
            pwm.publish_experiment = record.experiment
            try:
                pwm.off()
            finally:
                pwm.close()
        elif record.kind == outputs.LED:
            backend.led_driver().set_intensity(record.channel, 0.0)
        else:
            return False
    return True

"""``pioreactor.utils.pwm``: upstream's ``PWM(pin, hz, ...)`` on this unit's hardware backend.

The GPIO pin is mapped back to its HAT channel, which the backend drives (a real output on a
Raspberry Pi, the simulated vial otherwise). Duty cycles are published as upstream 25.x does,
retained on ``pioreactor/<unit>/<experiment>/pwms/dc`` as JSON keyed by GPIO pin, merged across
this unit's processes.

A channel belongs to one job at a time, across processes: a second job asking for a channel
another live job holds gets a ``PWMError`` that names both, instead of a silent fight over the pin.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from pioreactor import sdk
from pioreactor.exc import PWMError
from pioreactor.hardware import channel_of_pin

#: the job of this process (set by the compat BackgroundJob), named in conflicts
current_job_name: str | None = None
_open: list[PWM] = []
_open_lock = threading.Lock()
CLAIMS = "pwm_claims"
DUTY_CYCLES = "pwm_dc"


def _alive(pid: int) -> bool:
    from pioreactor.sdk import is_process_alive

    return is_process_alive(pid, None)


class PWM:
    def __init__(
        self,
        pin: int | str,
        hz: float,
        always_use_software: bool = False,
        pub_client: Any = None,
        logger: Any = None,
        unit: str | None = None,
        experiment: str | None = None,
        **_: Any,
    ) -> None:
        self.pin = pin
        self.channel = channel_of_pin(pin)
        self.hz = float(hz)
        self.unit = unit or sdk.get_unit_name()
        self.experiment = experiment or sdk.get_assigned_experiment()
        self.pub_client = pub_client
        self.logger = logger or sdk.get_logger("PWM")
        self.duty_cycle = 0.0
        self._is_cleaned_up = False
        self._locked = False
        self.owner = current_job_name or f"pid {os.getpid()}"
        self._claim()
        try:
            from pioreactor.sdk.hardware import get_hardware

            self._output = get_hardware().pwm(self.channel, self.hz)
        except Exception:
            self._release_claim()
            raise
        with _open_lock:
            _open.append(self)

    # -- ownership of the channel across processes ---------------------------------------------
    def _claim(self) -> None:
        with sdk.local_intermittent_storage(CLAIMS) as claims:
            existing = claims.get(self.channel)
            if existing:
                holder = json.loads(existing) if isinstance(existing, str) else existing
                if holder.get("pid") != os.getpid() and _alive(int(holder.get("pid", 0))):
                    device = sdk.get_config().get("PWM", self.channel, fallback="")
                    raise PWMError(
                        f"PWM channel {self.channel} (GPIO {self.pin}) is already driven by {holder.get('owner')!r} "
                        f"(pid {holder.get('pid')}); {self.owner!r} cannot use it too. "
                        f"[PWM] {self.channel} = {device or '(unset)'} in config.ini: give each device its own channel."
                    )
            claims[self.channel] = json.dumps({"owner": self.owner, "pid": os.getpid()})

    def _release_claim(self) -> None:
        with sdk.local_intermittent_storage(CLAIMS) as claims:
            existing = claims.get(self.channel)
            if existing and json.loads(existing).get("pid") == os.getpid():
                del claims[self.channel]

    # -- upstream's API --------------------------------------------------------------------------
    def lock(self) -> None:
        self._locked = True

    def unlock(self) -> None:
        self._locked = False

    def is_locked(self) -> bool:
        return self._locked

    def start(self, duty_cycle: float) -> None:
        self.change_duty_cycle(duty_cycle)

    def stop(self) -> None:
        self.change_duty_cycle(0.0)

    def change_duty_cycle(self, duty_cycle: float) -> None:
        if self._is_cleaned_up:
            # e.g. a plugin's timer firing while its job stops: the output stays off
            self.logger.debug("GPIO %s is cleaned up; ignoring a duty cycle of %s", self.pin, duty_cycle)
            return
        if not 0.0 <= float(duty_cycle) <= 100.0:
            raise PWMError(f"duty cycle must be between 0 and 100, got {duty_cycle}")
        self.duty_cycle = float(duty_cycle)
        self._output.set_duty_cycle(self.duty_cycle)
        self._publish()

    def clean_up(self) -> None:
        if self._is_cleaned_up:
            return
        try:
            self._output.close()
        finally:
            self.duty_cycle = 0.0
            self._is_cleaned_up = True
            self._publish()
            self._release_claim()
            with _open_lock:
                if self in _open:
                    _open.remove(self)

    def _publish(self) -> None:
        with sdk.local_intermittent_storage(DUTY_CYCLES) as store:
            if self._is_cleaned_up:
                store.pop(str(self.pin))
            else:
                store[str(self.pin)] = self.duty_cycle
            current = {str(pin): float(dc) for pin, dc in store.items()}
        payload = json.dumps(current)
        topic = f"pioreactor/{self.unit}/{self.experiment}/pwms/dc"
        if self.pub_client is not None:
            self.pub_client.publish(topic, payload, qos=1, retain=True)
        else:
            sdk.get_bus().publish(topic, payload, qos=1, retain=True)

    def __enter__(self) -> PWM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.clean_up()


def release_all(owner: str | None = None) -> None:
    """Switch off every PWM this process still holds (when its job stops)."""
    with _open_lock:
        still_open = list(_open)
    for pwm in still_open:
        try:
            pwm.clean_up()
        except Exception:
            pwm.logger.exception("Could not switch off GPIO %s", pwm.pin)

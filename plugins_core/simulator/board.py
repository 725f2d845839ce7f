"""The simulated unit's board: HAT, heating PCB, PWM rail, CPU, status LED and button.

Everything is healthy unless a fault says otherwise (``faults.py``). The status LED keeps its
recent switches in intermittent storage (``simulator_status_led``), shared by the unit's
processes, so tests and `status_led_history()` can read the codes the monitor blinks.
"""

from __future__ import annotations

import time
from typing import Any

from pioreactor.plugins_core.simulator.faults import active_faults
from pioreactor.sdk import Clock, local_intermittent_storage

STATUS_LED = "simulator_status_led"
POWER = "simulator_power"
HISTORY_LENGTH = 400
HEALTHY_RAIL_VOLTS = 5.05
HEALTHY_CPU_CELSIUS = 48.0


class SimulatedBoard:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    @staticmethod
    def _faults() -> dict[str, Any]:
        return active_faults()

    def hat_present(self) -> bool:
        return not self._faults().get("hat_missing")

    def heating_pcb_present(self) -> bool:
        return not self._faults().get("heating_pcb_missing")

    def pwm_rail_volts(self) -> float:
        value = self._faults().get("pwm_rail_voltage")
        return float(value) if value else HEALTHY_RAIL_VOLTS

    def cpu_temperature_celsius(self) -> float:
        value = self._faults().get("cpu_temperature")
        return float(value) if value else HEALTHY_CPU_CELSIUS

    def power_problems(self) -> list[str]:
        return ["under-voltage"] if self._faults().get("under_voltage") else []

    def set_status_led(self, on: bool) -> None:
        with local_intermittent_storage(STATUS_LED) as store:
            history = list(store.get("history", []))[-HISTORY_LENGTH:]
            history.append([time.time(), bool(on)])  # wall-clock: blink codes are for people
            store["history"] = history
            store["on"] = bool(on)

    def versions(self) -> dict[str, str]:
        return {"hat": "simulated", "firmware": "simulated", "hat_serial": "simulated"}

    def button_pressed(self) -> bool:
        return bool(self._faults().get("button_pressed"))

    def power(self, action: str) -> str:
        """A simulated unit only records the request (``power_requests()``): the machine it runs
        on, which other units may share, is never rebooted or shut down."""
        with local_intermittent_storage(POWER) as store:
            store["requests"] = [*store.get("requests", []), [time.time(), action]][-HISTORY_LENGTH:]
        return f"simulated {action}: recorded; this machine was left alone"


def power_requests() -> list[tuple[float, str]]:
    """The reboots and shutdowns asked of this simulated unit, as (wall-clock time, action)."""
    with local_intermittent_storage(POWER) as store:
        return [(float(t), str(action)) for t, action in store.get("requests", [])]


def status_led_history() -> list[tuple[float, bool]]:
    """The status LED's recent switches, as (wall-clock time, on)."""
    with local_intermittent_storage(STATUS_LED) as store:
        return [(float(t), bool(on)) for t, on in store.get("history", [])]


def blink_codes(history: list[tuple[float, bool]]) -> list[int]:
    """The error codes in ``history``: each is a long flash (2 s) then N short ones (0.25 s).
    Shorter flashes (the 0.14 s "okay" pattern) end a code and are not counted."""
    codes: list[int] = []
    pulses: list[float] = []
    on_at: float | None = None
    for at, on in history:
        if on and on_at is None:
            on_at = at
        elif not on and on_at is not None:
            pulses.append(at - on_at)
            on_at = None
    current: int | None = None
    for length in pulses:
        if length > 1.5:  # nominally 2 s
            if current:
                codes.append(current)
            current = 0
        elif length >= 0.2 and current is not None:  # nominally 0.25 s
            current += 1
        else:
            if current:
                codes.append(current)
            current = None
    if current:
        codes.append(current)
    return codes

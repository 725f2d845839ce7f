"""Faults injected at run time (for tests and demos), shared by every process of the unit.

* ``stirrer_stalled`` (True): the stir bar stops as if it were stuck.
* ``photodiode_disconnected`` (an ADC channel such as ``"2"``, a list of them, or True for
  all): that photodiode reads noise around 0 V.
* ``heater_stuck_on`` (True): the heater heats at 100 % whatever its duty cycle.
* ``temperature_sensor_garbage`` (True): the temperature sensor returns wild values
  (anything between -50 and 150 degrees C, or NaN).
* ``heater_disconnected`` (True): the heater does nothing whatever its duty cycle.
* ``ambient_light`` (volts, e.g. 0.2): stray light adds that much to every photodiode.
* ``reference_photodiode_misplaced`` (True): the REF photodiode and the first signal
  photodiode are in each other's slots.
* ``hat_missing``, ``heating_pcb_missing`` (True): the HAT, or the heating PCB's sensor, does
  not answer (self-test).
* ``pwm_rail_voltage`` (volts, e.g. 4.5), ``cpu_temperature`` (degrees C, e.g. 85),
  ``under_voltage`` (True), ``button_pressed`` (True): what the board reports (monitor).

A false value (``set_fault(name, False)``) switches a fault off; ``clear_faults()`` all of them.
"""

from __future__ import annotations

from typing import Any

from pioreactor.sdk import local_intermittent_storage

NAMESPACE = "simulator_faults"
KNOWN_FAULTS = frozenset(
    {
        "stirrer_stalled",
        "photodiode_disconnected",
        "heater_stuck_on",
        "temperature_sensor_garbage",
        "heater_disconnected",
        "ambient_light",
        "reference_photodiode_misplaced",
        "hat_missing",
        "heating_pcb_missing",
        "pwm_rail_voltage",
        "cpu_temperature",
        "under_voltage",
        "button_pressed",
    }
)


def set_fault(name: str, value: Any = True) -> None:
    if name not in KNOWN_FAULTS:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(KNOWN_FAULTS))}")
    with local_intermittent_storage(NAMESPACE) as store:
        store[name] = value
    _bump_world_version()


def _bump_world_version() -> None:
    """Tell processes that reuse their last look at the vial that something changed."""
    with local_intermittent_storage("simulator_world") as store:
        store["version"] = int(store.get("version", 0)) + 1


def clear_faults() -> None:
    with local_intermittent_storage(NAMESPACE) as store:
        store.clear()
    _bump_world_version()


def active_faults() -> dict[str, Any]:
    """The faults set now, with their values (false values are left out)."""
    with local_intermittent_storage(NAMESPACE) as store:
        return faults_in(store)


def faults_in(store: Any) -> dict[str, Any]:
    """The active faults in an open ``simulator_faults`` store."""
    return {name: value for name, value in store.items() if value}


def photodiode_is_disconnected(faults: dict[str, Any], channel: str) -> bool:
    value = faults.get("photodiode_disconnected")
    if value is True:
        return True
    if isinstance(value, list | tuple):
        return channel in {str(v) for v in value}
    return bool(value) and str(value) == channel

"""``pioreactor.utils.mock``: stand-ins for HAT devices, backed by this unit's hardware backend."""

from __future__ import annotations

from typing import Any


class MockTMP1075:
    """The temperature sensor, read through the hardware backend (the simulator's vial)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from pioreactor.sdk.hardware import get_hardware

        self._sensor = get_hardware().temperature_sensor()

    def get_temperature(self) -> float:
        return float(self._sensor.read_celsius())

    @property
    def temperature(self) -> float:
        return self.get_temperature()

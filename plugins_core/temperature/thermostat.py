"""``thermostat``: a PID on the heater's duty cycle towards ``target_temperature``.

As upstream, the PID's output is a *change* of the duty cycle, applied after each reading
(``[temperature_automation.thermostat]`` explains what that makes of Kp, Ki and Kd).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pioreactor.plugins_core.temperature.automation import TemperatureAutomationJob
from pioreactor.sdk import get_config
from pioreactor.sdk.automations import UpdatedHeaterDC
from pioreactor.sdk.control import PID

MAX_TARGET = 50.0
MAX_CHANGE_PER_READING = 25.0  # percentage points of duty cycle


class Thermostat(TemperatureAutomationJob):
    """Hold the culture at a target temperature.

    :param target_temperature: Temperature to hold, in °C (0 to 50).
    """

    automation_name = "thermostat"
    #: the highest target accepted (°C); a plugin may raise it (upstream's name)
    MAX_TARGET_TEMP: ClassVar[float] = MAX_TARGET
    published_settings = {"target_temperature": {"datatype": "float", "settable": True, "unit": "℃"}}

    def __init__(self, unit: str, experiment: str, *, target_temperature: float, **kwargs: Any) -> None:
        # the base takes the heater and switches it off first, so a refused start leaves it off
        super().__init__(unit, experiment, **kwargs)
        self._check_target(target_temperature)
        config = get_config()
        self.pid = PID(
            kp=config.getfloat("temperature_automation.thermostat", "Kp"),
            ki=config.getfloat("temperature_automation.thermostat", "Ki"),
            kd=config.getfloat("temperature_automation.thermostat", "Kd"),
            setpoint=target_temperature,
            output_min=-MAX_CHANGE_PER_READING,
            output_max=MAX_CHANGE_PER_READING,
        )
        self.target_temperature = target_temperature

    @classmethod
    def _check_target(cls, value: float | None) -> None:
        if value is None:
            raise ValueError("--target-temperature is required (in °C, e.g. --target-temperature 30)")
        if not 0.0 <= value <= cls.MAX_TARGET_TEMP:
            raise ValueError(f"target_temperature must be between 0 and {cls.MAX_TARGET_TEMP:g} °C, got {value:g}")

    def set_target_temperature(self, value: float) -> None:
        self._check_target(value)
        self.pid.set_setpoint(value)
        self.target_temperature = value

    def execute(self) -> UpdatedHeaterDC | None:
        temperature = self.latest_temperature
        if temperature is None:
            return None
        # dt in minutes: with the default reading every 60 s, the gains are per reading
        delta = self.pid.update(temperature, self.read_every / 60.0)
        self.update_heater_with_delta(delta)
        return UpdatedHeaterDC(
            message=f"delta_dc={delta:.2f}",
            data={"current_dc": self.heater_duty_cycle, "delta_dc": round(delta, 3)},
        )

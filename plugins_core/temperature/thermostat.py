"""``thermostat``: a PID on the heater's duty cycle towards ``target_temperature``."""

from __future__ import annotations

from typing import Any

from pioreactor.sdk import get_config
from pioreactor.sdk.automations import UpdatedHeaterDC
from pioreactor.sdk.automations.temperature import TemperatureAutomationJob
from pioreactor.sdk.control import PID

MAX_TARGET = 50.0


class Thermostat(TemperatureAutomationJob):
    """Hold the culture at a target temperature.

    :param target_temperature: Temperature to hold, in °C (up to 50).
    """

    automation_name = "thermostat"
    published_settings = {"target_temperature": {"datatype": "float", "settable": True, "unit": "℃"}}

    def __init__(self, unit: str, experiment: str, *, target_temperature: float, **kwargs: Any) -> None:
        self._check_target(target_temperature)
        super().__init__(unit, experiment, **kwargs)
        config = get_config()
        self.pid = PID(
            kp=config.getfloat("temperature_automation.thermostat", "Kp"),
            ki=config.getfloat("temperature_automation.thermostat", "Ki"),
            kd=config.getfloat("temperature_automation.thermostat", "Kd"),
            setpoint=target_temperature,
            output_min=-25.0,
            output_max=25.0,
        )
        self.target_temperature = target_temperature

    @staticmethod
    def _check_target(value: float) -> None:
        if not 0.0 <= value <= MAX_TARGET:
            raise ValueError(f"target_temperature must be between 0 and {MAX_TARGET:g} °C, got {value:g}")

    def set_target_temperature(self, value: float) -> None:
        self._check_target(value)
        self.pid.set_setpoint(value)
        self.target_temperature = value

    def execute(self) -> UpdatedHeaterDC | None:
        temperature = self.latest_temperature
        if temperature is None:
            return None
        delta = self.pid.update(temperature, self.read_every / 60.0)
        self.update_heater_with_delta(delta)
        return UpdatedHeaterDC(
            message=f"delta_dc={delta:.2f}",
            data={"current_dc": self.heater_duty_cycle, "delta_dc": round(delta, 3)},
        )

"""``only_record_temperature``: readings only; the heater stays off."""

from __future__ import annotations

from pioreactor.plugins_core.temperature.automation import TemperatureAutomationJob
from pioreactor.sdk.automations import NoEvent


class OnlyRecordTemperature(TemperatureAutomationJob):
    """Record the temperature without heating."""

    automation_name = "only_record_temperature"

    def execute(self) -> NoEvent:
        if self.heater_duty_cycle > 0:
            self.update_heater(0.0)
        return NoEvent()

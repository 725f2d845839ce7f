"""The temperature plugin's public API: the base of temperature automations.

    from pioreactor.plugins_core.temperature.api import TemperatureAutomationJob
    from pioreactor.sdk.automations import UpdatedHeaterDC

``TemperatureAutomationJob`` owns the heater and the sensor, publishes ``temperature``, calls
``execute()`` after each reading and enforces the safety limits whatever the automation asks.
"""

from __future__ import annotations

from pioreactor.plugins_core.temperature.automation import TemperatureAutomationJob, implausibility
from pioreactor.plugins_core.temperature.records import temperature
from pioreactor.plugins_core.temperature.structs import Temperature
from pioreactor.plugins_core.temperature.thermostat import Thermostat

__all__ = [
    "Temperature",
    "TemperatureAutomationJob",
    "Thermostat",
    "implausibility",
    "temperature",
]

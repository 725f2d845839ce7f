"""``pioreactor.automations.temperature.thermostat``: upstream's ``Thermostat`` name.

Plugins read and assign its class attributes (``MAX_TARGET_TEMP``); the thermostat that runs is
the temperature plugin's own.
"""

from pioreactor.automations.temperature.base import TemperatureAutomationJob


class Thermostat(TemperatureAutomationJob):
    automation_name = "thermostat"
    MAX_TARGET_TEMP = 50.0

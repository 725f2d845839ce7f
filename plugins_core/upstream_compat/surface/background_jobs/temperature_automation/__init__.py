"""``pioreactor.background_jobs.temperature_automation``: upstream's ``TemperatureAutomationJob``."""

from pioreactor.automations.temperature.base import TemperatureAutomationJob

__all__ = ["TemperatureAutomationJob"]

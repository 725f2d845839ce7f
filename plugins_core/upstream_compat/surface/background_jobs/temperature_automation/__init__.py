"""``pioreactor.background_jobs.temperature_automation``: upstream's ``TemperatureAutomationJob``.

This is the temperature plugin's own class, so a plugin that assigns its safety limits
(``TemperatureAutomationJob.MAX_TEMP_TO_SHUTDOWN = 87.0``) changes what the running job enforces.
Plugins that subclass it for an automation use ``pioreactor.automations.temperature.base``.
"""

from pioreactor.plugins_core.temperature.api import TemperatureAutomationJob

__all__ = ["TemperatureAutomationJob"]

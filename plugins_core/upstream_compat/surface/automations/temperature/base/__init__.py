"""``pioreactor.automations.temperature.base``: ``TemperatureAutomationJob`` and its Contrib."""

from __future__ import annotations

from typing import Any

from pioreactor.automations.base import UpstreamAutomation
from pioreactor.background_jobs.base import UpstreamStateHooks
from pioreactor.plugins_core.temperature.api import TemperatureAutomationJob as _SdkTemperatureAutomationJob


class TemperatureAutomationJob(UpstreamAutomation, _SdkTemperatureAutomationJob, UpstreamStateHooks):
    automation_name = "temperature_automation_base"
    INFERENCE_EVERY_N_SECONDS = 225.0  # upstream's; the safety limits are inherited (MAX_TEMP_TO_*)

    def __init__(self, unit: str, experiment: str, **kwargs: Any) -> None:
        plugin_name = kwargs.pop("plugin_name", None)
        if plugin_name:
            self.source = plugin_name
        super().__init__(unit, experiment, **kwargs)


class TemperatureAutomationJobContrib(TemperatureAutomationJob):
    """Subclass this in a plugin (upstream's name); set ``automation_name``."""

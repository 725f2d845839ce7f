"""``pioreactor.automations.led.base``: ``LEDAutomationJob`` and ``LEDAutomationJobContrib``."""

from __future__ import annotations

from typing import Any

from pioreactor.automations.base import UpstreamAutomation
from pioreactor.background_jobs.base import UpstreamStateHooks
from pioreactor.plugins_core.leds.api import LEDAutomationJob as _SdkLEDAutomationJob


class LEDAutomationJob(UpstreamAutomation, _SdkLEDAutomationJob, UpstreamStateHooks):
    automation_name = "led_automation_base"

    def __init__(self, unit: str, experiment: str, **kwargs: Any) -> None:
        plugin_name = kwargs.pop("plugin_name", None)
        if plugin_name:
            self.source = plugin_name
        super().__init__(unit, experiment, **kwargs)


class LEDAutomationJobContrib(LEDAutomationJob):
    """Subclass this in a plugin (upstream's name); set ``automation_name``."""

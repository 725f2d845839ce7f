from __future__ import annotations

from pioreactor.plugins_core.leds.automation import LEDAutomationJob
from pioreactor.sdk.automations import NoEvent


class Silent(LEDAutomationJob):
    """Do nothing (keep the LEDs as they are)."""

    automation_name = "silent"

    def execute(self) -> NoEvent:
        return NoEvent()

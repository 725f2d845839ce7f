from __future__ import annotations

from pioreactor.sdk.automations import NoEvent
from pioreactor.sdk.automations.led import LEDAutomationJob


class Silent(LEDAutomationJob):
    """Do nothing (keep the LEDs as they are)."""

    automation_name = "silent"

    def execute(self) -> NoEvent:
        return NoEvent()

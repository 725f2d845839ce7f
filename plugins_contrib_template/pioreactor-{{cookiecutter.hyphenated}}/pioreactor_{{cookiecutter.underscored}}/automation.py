"""An example LED automation: one LED on for a period, off for the next."""

from __future__ import annotations

from typing import Any

from pioreactor.plugins_core.leds.api import LEDAutomationJob
from pioreactor.sdk.automations import ChangedLedIntensity


class Pulse(LEDAutomationJob):
    """Switch an LED on and off, one period (`--duration` minutes) each.

    :param channel: The LED channel to pulse (B, C or D; A is usually the IR LED of OD readings).
    :param intensity: Intensity while on, in %.
    """

    automation_name = "{{ cookiecutter.underscored }}_pulse"
    published_settings = {"intensity": {"datatype": "float", "settable": True, "unit": "%"}}

    def __init__(
        self, unit: str, experiment: str, *, channel: str = "D", intensity: float = 20.0, **kwargs: Any
    ) -> None:
        if channel not in ("B", "C", "D"):
            raise ValueError(f"channel must be B, C or D, got {channel!r}")
        super().__init__(unit, experiment, **kwargs)  # the base takes --duration and --skip-first-run
        self.channel = channel
        self.intensity = intensity
        self.is_on = False

    def execute(self) -> ChangedLedIntensity:
        """Called every `duration` minutes; what it returns is published as `latest_event`."""
        self.is_on = not self.is_on
        self.set_led_intensity(self.channel, self.intensity if self.is_on else 0.0)
        return ChangedLedIntensity(message=f"LED {self.channel} {'on' if self.is_on else 'off'}")

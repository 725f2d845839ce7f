"""``light_dark_cycle``: LEDs C and D on for ``light_duration_minutes``, off for ``dark_duration_minutes``."""

from __future__ import annotations

from typing import Any

from pioreactor.sdk.automations import ChangedLedIntensity
from pioreactor.sdk.automations.led import LEDAutomationJob

CHANNELS = ("D", "C")


class LightDarkCycle(LEDAutomationJob):
    """Alternate light and dark periods (checked every minute).

    :param light_intensity: Intensity of LEDs C and D while light, in %.
    :param light_duration_minutes: Minutes of light per cycle.
    :param dark_duration_minutes: Minutes of dark per cycle.
    """

    automation_name = "light_dark_cycle"
    published_settings = {
        "light_intensity": {"datatype": "float", "settable": True, "unit": "%"},
        "light_duration_minutes": {"datatype": "integer", "settable": True, "unit": "min"},
        "dark_duration_minutes": {"datatype": "integer", "settable": True, "unit": "min"},
    }

    def __init__(
        self,
        unit: str,
        experiment: str,
        *,
        light_intensity: float = 50.0,
        light_duration_minutes: int = 16,
        dark_duration_minutes: int = 8,
        **kwargs: Any,
    ) -> None:
        if not 0 <= light_intensity <= 100:
            raise ValueError(f"light_intensity must be between 0 and 100 %, got {light_intensity:g}")
        if light_duration_minutes < 0 or dark_duration_minutes < 0 or light_duration_minutes + dark_duration_minutes == 0:
            raise ValueError("light and dark durations must be non-negative minutes, not both 0")
        super().__init__(unit, experiment, **kwargs)
        self.light_intensity = light_intensity
        self.light_duration_minutes = light_duration_minutes
        self.dark_duration_minutes = dark_duration_minutes
        self.minutes_online = -1
        self.light_active = False

    def execute(self) -> ChangedLedIntensity | None:
        self.minutes_online += 1
        cycle = self.light_duration_minutes + self.dark_duration_minutes
        should_be_on = (self.minutes_online % cycle) < self.light_duration_minutes
        if should_be_on == self.light_active:
            return None
        self.light_active = should_be_on
        intensity = self.light_intensity if should_be_on else 0.0
        for channel in CHANNELS:
            self.set_led_intensity(channel, intensity)
        return ChangedLedIntensity(message=f"{self.minutes_online:.1f}min: turned {'on' if should_be_on else 'off'} LEDs.")

    def set_light_intensity(self, value: float) -> None:
        if not 0 <= value <= 100:
            raise ValueError(f"light_intensity must be between 0 and 100 %, got {value:g}")
        self.light_intensity = value
        if self.light_active:
            for channel in CHANNELS:
                self.set_led_intensity(channel, value)

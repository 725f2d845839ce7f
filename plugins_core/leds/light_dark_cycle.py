"""``light_dark_cycle``: LEDs C and D on for ``light_duration_minutes``, off for ``dark_duration_minutes``."""

from __future__ import annotations

import threading
from typing import Any

from pioreactor.plugins_core.leds.automation import LEDAutomationJob
from pioreactor.sdk.automations import ChangedLedIntensity

CHANNELS = ("D", "C")


def _check_intensity(value: float) -> None:
    if not 0 <= value <= 100:
        raise ValueError(f"light_intensity must be between 0 and 100 %, got {value:g}")


def _check_durations(light: int, dark: int) -> None:
    if light < 0 or dark < 0 or light + dark == 0:
        raise ValueError(
            f"light_duration_minutes and dark_duration_minutes must be whole minutes, not negative and "
            f"not both 0, got {light} and {dark}"
        )


class LightDarkCycle(LEDAutomationJob):
    """Alternate light and dark periods on LEDs C and D (checked every ``duration`` minutes).

    The cycle starts with the light on; the minutes counted are those of the runs, so a pause
    (sleeping) pauses the cycle too.

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
        _check_intensity(light_intensity)
        _check_durations(light_duration_minutes, dark_duration_minutes)
        super().__init__(unit, experiment, **kwargs)
        self.light_intensity = light_intensity
        self.light_duration_minutes = light_duration_minutes
        self.dark_duration_minutes = dark_duration_minutes
        self.minutes_online: float | None = None  # None until the first run, which is minute 0
        self.light_active = False
        self._leds_lock = threading.Lock()  # runs (timer thread) and setters (MQTT thread)

    def execute(self) -> ChangedLedIntensity | None:
        with self._leds_lock:
            self.minutes_online = 0.0 if self.minutes_online is None else self.minutes_online + self.duration
            return self._apply()

    def _apply(self) -> ChangedLedIntensity | None:
        """Switch the LEDs to what the cycle wants at ``minutes_online``; an event if they changed."""
        if self.minutes_online is None:  # not started yet: the first run decides
            return None
        cycle = self.light_duration_minutes + self.dark_duration_minutes
        should_be_on = (self.minutes_online % cycle) < self.light_duration_minutes
        if should_be_on == self.light_active:
            return None
        self.light_active = should_be_on
        for channel in CHANNELS:
            self.set_led_intensity(channel, self.light_intensity if should_be_on else 0.0)
        return ChangedLedIntensity(
            message=f"{self.minutes_online:.1f}min: turned {'on' if should_be_on else 'off'} LEDs.",
            data={"minutes_online": self.minutes_online, "light_on": should_be_on},
        )

    def _reapply(self) -> None:
        """After a setting changed: act on it now rather than at the next run."""
        with self._leds_lock:
            event = self._apply()
        if event is not None:
            self.latest_event = event
            self.logger.info(str(event))

    def set_light_intensity(self, value: float) -> None:
        _check_intensity(value)
        with self._leds_lock:
            self.light_intensity = value
            if self.light_active:
                for channel in CHANNELS:
                    self.set_led_intensity(channel, value)

    def set_light_duration_minutes(self, minutes: int) -> None:
        _check_durations(minutes, self.dark_duration_minutes)
        self.light_duration_minutes = minutes
        self._reapply()

    def set_dark_duration_minutes(self, minutes: int) -> None:
        _check_durations(self.light_duration_minutes, minutes)
        self.dark_duration_minutes = minutes
        self._reapply()

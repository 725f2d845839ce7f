"""``LEDAutomationJob``: the base of LED automations (``pio run led_automation``)."""

from __future__ import annotations

from typing import Any

from pioreactor.plugins_core.leds.intensities import DEFAULT_LOCK_WAIT_SECONDS, set_intensities
from pioreactor.sdk.automations import AutomationJob


class LEDAutomationJob(AutomationJob):
    """Runs ``execute()`` every ``duration`` minutes; ``set_led_intensity()`` changes an LED and
    remembers it, so every LED the automation touched is switched off when it stops.

    :param duration: Minutes between runs of the automation.
    :param skip_first_run: Wait one period before the first run.
    """

    automation_kind = "led"
    job_name = "led_automation"
    published_settings = {"duration": {"datatype": "float", "settable": True, "unit": "min"}}

    def __init__(
        self, unit: str, experiment: str, *, duration: float = 1.0, skip_first_run: bool = False, **kwargs: Any
    ) -> None:
        if not duration > 0:
            raise ValueError(f"duration must be a positive number of minutes, got {duration:g}")
        super().__init__(unit, experiment, **kwargs)
        self.edited_channels: set[str] = set()
        self.duration = duration
        self._skip_first_run = skip_first_run

    def on_ready(self) -> None:
        if self._periodic is None:
            self.run_every(self.duration, skip_first_run=self._skip_first_run)

    def set_duration(self, minutes: float) -> None:
        if not minutes > 0:
            raise ValueError(f"duration must be a positive number of minutes, got {minutes:g}")
        self.run_every(minutes, skip_first_run=True)
        self.duration = minutes

    def set_led_intensity(self, channel: str, intensity: float) -> bool:
        """Set one LED (percent), waiting a few seconds if another job (od_reading) holds it;
        False if it stayed locked."""
        self.edited_channels.add(channel)
        return set_intensities(
            {channel: intensity},
            source_of_event=f"{self.job_name}:{self.automation_name}",
            experiment=self.experiment,
            wait_for_locks=DEFAULT_LOCK_WAIT_SECONDS,
        )

    def on_disconnected(self) -> None:
        super().on_disconnected()
        if self.edited_channels:
            set_intensities(
                {channel: 0.0 for channel in self.edited_channels},
                source_of_event=f"{self.job_name}:{self.automation_name}",
                experiment=self.experiment,
            )

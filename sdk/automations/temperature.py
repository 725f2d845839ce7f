"""``TemperatureAutomationJob``: the base of temperature automations (``pio run temperature_automation``).

It owns the heater and the temperature sensor. Every ``read_every_seconds`` it pauses the
heater (the heater warms the sensor on the HAT), waits ``heater_pause_seconds``, averages a few
sensor reads, publishes ``temperature`` and calls ``execute()`` with the heater restored. Hard
limits apply to every reading, whatever the automation asks: above 63 °C the heater is cut by
10 %, above 65 °C it is switched off and locked, above 66 °C the job stops.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from pioreactor.kernel.config import get_config
from pioreactor.kernel.hardware import get_hardware, pwm_channel_for
from pioreactor.kernel.timers import RepeatedTimer
from pioreactor.sdk.automations.base import AutomationJob
from pioreactor.sdk.structs import Temperature

MAX_TEMP_TO_REDUCE_HEATING = 63.0
MAX_TEMP_TO_DISABLE_HEATING = 65.0
MAX_TEMP_TO_SHUTDOWN = 66.0
PLAUSIBLE_RANGE = (-10.0, 100.0)  # outside: a broken or disconnected sensor, not a temperature
SECTION = "temperature_automation.config"


class TemperatureAutomationJob(AutomationJob):
    """Base of temperature automations: reads the temperature, calls ``execute()``, drives the heater."""

    automation_kind = "temperature"
    job_name = "temperature_automation"
    published_settings = {
        "temperature": {"datatype": "Temperature", "settable": False, "unit": "℃"},
        "heater_duty_cycle": {"datatype": "float", "settable": False, "unit": "%"},
    }

    def __init__(self, unit: str, experiment: str, **kwargs: Any) -> None:
        super().__init__(unit, experiment, **kwargs)
        config = get_config()
        self.read_every = config.getfloat(SECTION, "read_every_seconds")
        self.heater_pause = config.getfloat(SECTION, "heater_pause_seconds")
        self.samples = max(1, config.getint(SECTION, "samples_per_reading"))
        hardware = get_hardware()
        self.heater = self.hold(hardware.pwm(pwm_channel_for("heating"), config.getfloat(SECTION, "pwm_hz")))
        self.sensor = hardware.temperature_sensor()
        self.heater_duty_cycle = 0.0
        self.temperature: Temperature | None = None
        self._heater_lock = threading.RLock()
        self._heater_disabled = False
        self._wake = threading.Event()
        self._reader = RepeatedTimer(self.read_every, self.read_and_execute, run_immediately=True, name="temperature-reads")

    # -- heater ------------------------------------------------------------------------------
    def update_heater(self, duty_cycle: float) -> bool:
        """Set the heater's duty cycle (clamped to 0-100); False if safety has disabled it."""
        with self._heater_lock:
            if self._heater_disabled and duty_cycle > 0:
                return False
            duty_cycle = round(min(100.0, max(0.0, duty_cycle)), 2)
            self.heater.set_duty_cycle(duty_cycle)
            self.heater_duty_cycle = duty_cycle
            return True

    def update_heater_with_delta(self, delta: float) -> bool:
        return self.update_heater(self.heater_duty_cycle + delta)

    # -- readings ----------------------------------------------------------------------------
    def read_temperature(self) -> float | None:
        """Pause the heater, let the sensor settle, average a few reads; None if implausible."""
        with self._heater_lock:
            duty_cycle = self.heater_duty_cycle
            self.heater.set_duty_cycle(0.0)
        try:
            if duty_cycle > 0 and self.clock.wait(self._wake, self.heater_pause):
                return None  # stopping
            values = [self.sensor.read_celsius() for _ in range(self.samples)]
        finally:
            with self._heater_lock:
                if not self._wake.is_set() and self.state == self.READY:
                    self.heater.set_duty_cycle(self.heater_duty_cycle)
        value = sum(values) / len(values)
        if not math.isfinite(value) or not PLAUSIBLE_RANGE[0] <= value <= PLAUSIBLE_RANGE[1]:
            self.logger.error(
                "The temperature sensor reads %s °C, which is not plausible: heater off until it reads sensibly.", value
            )
            self.update_heater(0.0)
            return None
        return value

    def _apply_safety_limits(self, value: float) -> bool:
        """Enforce the hard limits; False if the automation must not run."""
        if value > MAX_TEMP_TO_SHUTDOWN:
            self.logger.critical("Temperature %.1f °C is above %.0f °C: heater off, stopping.", value, MAX_TEMP_TO_SHUTDOWN)
            self.update_heater(0.0)
            self.request_stop("temperature too high")
            return False
        if value > MAX_TEMP_TO_DISABLE_HEATING:
            self.logger.warning("Temperature %.1f °C is above %.0f °C: heater switched off.", value, MAX_TEMP_TO_DISABLE_HEATING)
            self.update_heater(0.0)
            self._heater_disabled = True
            return False
        if value > MAX_TEMP_TO_REDUCE_HEATING:
            self.logger.warning("Temperature %.1f °C is above %.0f °C: reducing heating.", value, MAX_TEMP_TO_REDUCE_HEATING)
            self.update_heater(self.heater_duty_cycle * 0.9)
        return True

    def read_and_execute(self) -> None:
        if self.state != self.READY:
            return
        value = self.read_temperature()
        if value is None:
            return
        self.temperature = Temperature(temperature=round(value, 3), timestamp=self.clock.utc_now())
        if self._apply_safety_limits(value):
            self.run()

    @property
    def latest_temperature(self) -> float | None:
        return self.temperature.temperature if self.temperature else None

    # -- lifecycle ---------------------------------------------------------------------------
    def on_ready(self) -> None:
        self._reader.start()
        self._reader.unpause()

    def on_ready_to_sleeping(self) -> None:
        self._reader.pause()
        with self._heater_lock:
            self.heater.set_duty_cycle(0.0)  # paused: no heating, but remember the duty cycle

    def on_sleeping_to_ready(self) -> None:
        with self._heater_lock:
            self.heater.set_duty_cycle(self.heater_duty_cycle)

    def on_disconnected(self) -> None:
        super().on_disconnected()
        self._wake.set()
        self._reader.cancel()
        with self._heater_lock:
            self.heater.off()

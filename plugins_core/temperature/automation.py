"""``TemperatureAutomationJob``: the base of temperature automations (``pio run temperature_automation``).

It owns the heater and the temperature sensor. Every ``read_every_seconds`` it pauses the
heater (the heater warms the sensor on the HAT), waits ``heater_pause_seconds``, averages a few
sensor reads, publishes ``temperature`` and calls ``execute()`` with the heater restored.

Whatever the automation asks, on every reading:

* above 63 °C the heater is cut by 10 %; above 65 °C it is switched off for the rest of the
  run (the automation no longer runs, readings go on); above 66 °C the job stops (exit code 1);
* readings that cannot be a temperature (not a number, outside -10..100 °C, reads that disagree
  by more than 2 °C, or all exactly 0, the sensor's failure value) switch the heater off and log
  an error; the job keeps reading, and the automation runs again once the sensor makes sense.

Sleeping switches the heater off and resuming restores its duty cycle; however the job ends
(SIGTERM, ``$state/set disconnected``, a failure while starting), the heater is left off.
"""

from __future__ import annotations

import math
import threading
from typing import Any, ClassVar

from pioreactor.plugins_core.temperature.structs import Temperature
from pioreactor.sdk import ConfigError, RepeatedTimer, get_config, get_hardware
from pioreactor.sdk.automations import AutomationJob
from pioreactor.sdk.hardware import pwm_channel_for

MAX_TEMP_TO_REDUCE_HEATING = 63.0
MAX_TEMP_TO_DISABLE_HEATING = 65.0
MAX_TEMP_TO_SHUTDOWN = 66.0
PLAUSIBLE_RANGE = (-10.0, 100.0)  # outside: a broken or disconnected sensor, not a temperature
MAX_SPREAD_C = 2.0  # reads a fraction of a second apart that differ more than this are noise, not heat
SECTION = "temperature_automation.config"


def implausibility(values: list[float]) -> str | None:
    """Why ``values`` (reads taken moments apart) cannot be the vial's temperature, or None."""
    if not all(math.isfinite(v) for v in values):
        return "it returned a value that is not a number"
    low, high = min(values), max(values)
    if low < PLAUSIBLE_RANGE[0] or high > PLAUSIBLE_RANGE[1]:
        return f"it read {low:.1f}..{high:.1f} °C, outside {PLAUSIBLE_RANGE[0]:g}..{PLAUSIBLE_RANGE[1]:g} °C"
    if high - low > MAX_SPREAD_C:
        return f"consecutive reads disagree ({low:.1f} and {high:.1f} °C)"
    if all(v == 0.0 for v in values):
        return "it read exactly 0 °C, its failure value"
    return None


class TemperatureAutomationJob(AutomationJob):
    """Base of temperature automations: reads the temperature, calls ``execute()``, drives the heater.

    A subclass implements ``execute()`` (called after each reading, ``latest_temperature`` set)
    and changes the heater with ``update_heater(duty_cycle)`` or ``update_heater_with_delta(d)``.
    """

    automation_kind = "temperature"
    job_name = "temperature_automation"
    # the safety limits (°C), read from the class so a plugin can change them, as upstream's
    # high-temperature plugin does: TemperatureAutomationJob.MAX_TEMP_TO_SHUTDOWN = 87.0
    MAX_TEMP_TO_REDUCE_HEATING: ClassVar[float] = MAX_TEMP_TO_REDUCE_HEATING
    MAX_TEMP_TO_DISABLE_HEATING: ClassVar[float] = MAX_TEMP_TO_DISABLE_HEATING
    MAX_TEMP_TO_SHUTDOWN: ClassVar[float] = MAX_TEMP_TO_SHUTDOWN
    published_settings = {
        "temperature": {"datatype": Temperature, "settable": False, "unit": "℃"},
        "heater_duty_cycle": {"datatype": "float", "settable": False, "unit": "%"},
    }

    def __init__(self, unit: str, experiment: str, **kwargs: Any) -> None:
        super().__init__(unit, experiment, **kwargs)
        self._heater_lock = threading.RLock()
        self._cycle_lock = threading.Lock()  # one reading (and execute) at a time
        self._interrupt = threading.Event()  # cuts a heater pause short: sleeping or stopping
        self._reading = False  # the heater is paused for a reading
        self._heating_allowed = True  # False while sleeping and once stopping
        self._heater_disabled = False  # safety: above MAX_TEMP_TO_DISABLE_HEATING
        self._sensor_failing = False
        self._resume_duty_cycle = 0.0
        self.heater_duty_cycle = 0.0
        self.temperature: Temperature | None = None
        config = get_config()
        hardware = get_hardware()
        # take the heater first and switch it off, whatever a previous (killed) process left on:
        # from here on, any failure (below, or in a subclass) ends with the heater released, off
        self.heater = self.hold(hardware.pwm(pwm_channel_for("heating"), config.getfloat(SECTION, "pwm_hz")))
        self.heater.set_duty_cycle(0.0)
        self.read_every = config.getfloat(SECTION, "read_every_seconds")
        self.heater_pause = config.getfloat(SECTION, "heater_pause_seconds")
        self.samples = config.getint(SECTION, "samples_per_reading")
        if self.read_every <= 0:
            raise ConfigError(f"[{SECTION}] read_every_seconds must be positive, got {self.read_every:g}")
        if not 0 <= self.heater_pause < self.read_every:
            raise ConfigError(
                f"[{SECTION}] heater_pause_seconds must be between 0 and read_every_seconds "
                f"({self.read_every:g}), got {self.heater_pause:g}"
            )
        if self.samples < 1:
            raise ConfigError(f"[{SECTION}] samples_per_reading must be at least 1, got {self.samples}")
        self.sensor = hardware.temperature_sensor()
        self._reader = RepeatedTimer(
            self.read_every, self.read_and_execute, run_immediately=True, name="temperature-reads"
        )

    # -- heater ------------------------------------------------------------------------------
    def _drive_heater(self) -> None:
        """Put the PWM where it should be now (with ``_heater_lock`` held)."""
        on = self._heating_allowed and not self._reading
        self.heater.set_duty_cycle(self.heater_duty_cycle if on else 0.0)

    def update_heater(self, duty_cycle: float) -> bool:
        """Set the heater's duty cycle (clamped to 0-100 %). Returns False, changing nothing, if
        the heater may not heat now (safety has disabled it, or the job sleeps or stops)."""
        with self._heater_lock:
            if duty_cycle > 0 and (self._heater_disabled or not self._heating_allowed):
                return False
            duty_cycle = round(min(100.0, max(0.0, duty_cycle)), 2)
            if duty_cycle != self.heater_duty_cycle:
                self.heater_duty_cycle = duty_cycle
            self._drive_heater()
            return True

    def update_heater_with_delta(self, delta: float) -> bool:
        return self.update_heater(self.heater_duty_cycle + delta)

    # -- readings ----------------------------------------------------------------------------
    def read_temperature(self) -> float | None:
        """Pause the heater, let the sensor settle, average a few reads.

        None if the reading was cut short (sleeping, stopping) or is not plausible; in the
        latter case the heater is switched off and an error logged."""
        with self._heater_lock:
            self._reading = True
            heated = self.heater_duty_cycle > 0 and self._heating_allowed
            self._drive_heater()
        try:
            if heated and self.clock.wait(self._interrupt, self.heater_pause):
                return None
            values = [self.sensor.read_celsius() for _ in range(self.samples)]
            problem = implausibility(values)
        except Exception as err:  # e.g. an I2C error: the sensor is unplugged or broken
            problem = f"reading it failed ({type(err).__name__}: {err})"
        finally:
            with self._heater_lock:
                self._reading = False
                self._drive_heater()
        if problem is not None:
            self._on_sensor_failure(problem)
            return None
        if self._sensor_failing:
            self._sensor_failing = False
            self.logger.info("The temperature sensor reads sensibly again.")
        return sum(values) / len(values)

    def _on_sensor_failure(self, problem: str) -> None:
        self.update_heater(0.0)
        if self._sensor_failing:
            self.logger.debug("The temperature sensor still fails: %s.", problem)
            return
        self._sensor_failing = True
        self.logger.error(
            "The temperature sensor gives readings that cannot be right: %s. The heater is off until "
            "it reads sensibly again; check the heating PCB and its cable.",
            problem,
        )

    def _apply_safety_limits(self, value: float) -> bool:
        """Enforce the hard limits; False if the automation must not run."""
        if value > self.MAX_TEMP_TO_SHUTDOWN:
            with self._heater_lock:
                self._heater_disabled = True
                self.update_heater(0.0)
            self.logger.critical(
                "Temperature %.1f °C is above %.0f °C: heater off, stopping %s.",
                value,
                self.MAX_TEMP_TO_SHUTDOWN,
                self.job_name,
            )
            self.exit_code = 1
            self.request_stop("temperature too high")
            return False
        if value > self.MAX_TEMP_TO_DISABLE_HEATING:
            with self._heater_lock:
                already = self._heater_disabled
                self._heater_disabled = True
                self.update_heater(0.0)
            if not already:
                self.logger.warning(
                    "Temperature %.1f °C is above %.0f °C: heater switched off for the rest of this run; "
                    "%s only records the temperature now.",
                    value,
                    self.MAX_TEMP_TO_DISABLE_HEATING,
                    self.job_name,
                )
            return False
        if self._heater_disabled:
            return False
        if value > self.MAX_TEMP_TO_REDUCE_HEATING:
            self.logger.warning(
                "Temperature %.1f °C is above %.0f °C: reducing heating by 10 %%.", value, self.MAX_TEMP_TO_REDUCE_HEATING
            )
            self.update_heater(self.heater_duty_cycle * 0.9)
        return True

    def read_and_execute(self) -> None:
        """One cycle: read (heater paused), publish, check the limits, run the automation."""
        with self._cycle_lock:
            if self.state != self.READY or self._interrupt.is_set():
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
        self._interrupt.set()  # a reading in progress ends now...
        with self._cycle_lock, self._heater_lock:  # ...and nothing heats once this returns
            self._resume_duty_cycle = self.heater_duty_cycle
            self.update_heater(0.0)
            self._heating_allowed = False

    def on_sleeping_to_ready(self) -> None:
        with self._cycle_lock, self._heater_lock:
            self._interrupt.clear()
            self._heating_allowed = True
            self.update_heater(self._resume_duty_cycle)

    def on_disconnected(self) -> None:
        super().on_disconnected()
        self._interrupt.set()
        with self._heater_lock:
            self._heating_allowed = False
            self.heater.off()
        self._reader.cancel()

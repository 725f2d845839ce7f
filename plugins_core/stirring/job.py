"""The stirring job: holds the stir bar at ``target_rpm`` with a PID loop on the measured RPM.

Every ``duration_between_updates_seconds`` it counts the hall sensor's edges for
``rpm_measurement_seconds``, publishes ``measured_rpm`` and nudges the duty cycle. A bar that
reads 0 RPM while powered has stalled: the job warns and kicks it (full power briefly).

With an active stirring calibration (``pio calibrations run --device stirring``), the job starts
at the duty cycle the calibration gives for the target RPM, and a new target moves the duty cycle
most of the way to the calibrated one before the PID refines it.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from pioreactor.plugins_core.od_reading.api import ODDodger
from pioreactor.plugins_core.stirring.structs import MeasuredRPM
from pioreactor.sdk import BackgroundJob, RepeatedTimer, get_config, get_hardware, local_persistent_storage
from pioreactor.sdk.control import PID
from pioreactor.sdk.hardware import pwm_channel_for

if TYPE_CHECKING:
    from pioreactor.plugins_core.calibrations.api import StirringCalibration

MAX_RPM = 5000.0
CLI_MAX_RPM = 1500.0
STALL_KICK_MAX_DUTY_CYCLE = 50.0
PID_OUTPUT_LIMIT = 7.5  # at most this many duty-cycle points per update, as upstream
# a new target moves the duty cycle this much of the way to the calibrated one (as upstream)
CALIBRATED_FEED_FORWARD = 0.9


def rpm_from_edges(edges: list[float], pulses_per_revolution: int) -> float:
    """RPM from falling-edge times: pulses over the time between the first and last edge."""
    if len(edges) < 2:
        return 0.0
    span = edges[-1] - edges[0]
    if span <= 0:
        return 0.0
    return (len(edges) - 1) / span * 60.0 / pulses_per_revolution


class Stirrer(BackgroundJob):
    """Stir the vial at a target RPM, correcting the duty cycle from the hall sensor's reading.

    :param target_rpm: RPM to hold, 0 to 1500.
    :param use_rpm: Close the loop on the measured RPM; --no-use-rpm keeps the duty cycle fixed.
    :param duty_cycle: Duty cycle (%) to start from (an active stirring calibration gives it for target_rpm).
    """

    job_name = "stirring"
    published_settings = {
        "target_rpm": {"datatype": "float", "settable": True, "unit": "RPM"},
        "measured_rpm": {"datatype": MeasuredRPM, "settable": False, "unit": "RPM"},
        "duty_cycle": {"datatype": "float", "settable": True, "unit": "%"},
        "enable_dodging_od": {"datatype": "boolean", "settable": True},
        "currently_dodging_od": {"datatype": "boolean", "settable": False},
    }

    def __init__(
        self,
        unit: str,
        experiment: str,
        *,
        target_rpm: float | None = None,
        use_rpm: bool | None = None,
        duty_cycle: float | None = None,
    ) -> None:
        # check the options before announcing anything on the broker
        config = get_config()
        section = "stirring.config"
        if target_rpm is None:
            target_rpm = config.getfloat(section, "initial_target_rpm")
        if not 0.0 <= target_rpm <= CLI_MAX_RPM:
            raise ValueError(f"target_rpm must be between 0 and {CLI_MAX_RPM:g}, got {target_rpm:g}")
        initial_dc = config.getfloat(section, "initial_duty_cycle") if duty_cycle is None else duty_cycle
        if not 0.0 <= initial_dc <= 100.0:
            raise ValueError(f"duty_cycle must be between 0 and 100, got {initial_dc:g}")

        super().__init__(unit, experiment)
        self._stopping = threading.Event()
        self.use_rpm = config.getboolean(section, "use_rpm") if use_rpm is None else use_rpm
        self.calibration = self._load_calibration()
        if duty_cycle is None and self.use_rpm and self.calibration is not None:
            calibrated = self.calibrated_duty_cycle(target_rpm)
            if calibrated is not None:
                initial_dc = calibrated
                self.logger.info(
                    "Starting at %.2f %% duty cycle for %g RPM, from calibration %r.",
                    initial_dc, target_rpm, self.calibration.calibration_name,
                )
        self.update_interval = config.getfloat(section, "duration_between_updates_seconds")
        self.measurement_seconds = config.getfloat(section, "rpm_measurement_seconds")
        self.kick_seconds = config.getfloat(section, "kick_duration_seconds")
        self.pulses_per_revolution = config.getint(section, "hall_pulses_per_revolution")

        hardware = get_hardware()
        self.pwm = self.hold(hardware.pwm(pwm_channel_for("stirring"), config.getfloat(section, "pwm_hz")))
        self.hall_sensor = self.hold(hardware.edge_counter("hall_sensor")) if self.use_rpm else None

        self._motor_lock = threading.Lock()
        self._duty_cycle_when_paused = initial_dc
        self.pid = PID(
            kp=config.getfloat("stirring.pid", "Kp"),
            ki=config.getfloat("stirring.pid", "Ki"),
            kd=config.getfloat("stirring.pid", "Kd"),
            setpoint=target_rpm,
            output_min=-PID_OUTPUT_LIMIT,
            output_max=PID_OUTPUT_LIMIT,
        )
        self.target_rpm = target_rpm if self.use_rpm else None
        self.duty_cycle = initial_dc
        self.measured_rpm: dict[str, Any] | None = None
        self.dodger = ODDodger(
            self,
            before=self._stop_for_od_reading,
            after=self._resume_after_od_reading,
            pre_seconds=config.getfloat(section, "pre_delay_duration"),
            post_seconds=config.getfloat(section, "post_delay_duration"),
        )
        self.currently_dodging_od = False
        self.enable_dodging_od = config.getboolean(section, "enable_dodging_od")
        self._timer = RepeatedTimer(
            self.update_interval,
            self.poll_and_update,
            run_after=self.kick_seconds + 5.0,  # let the kick die down before the first reading
            run_immediately=True,
            name="stirring-rpm-loop",
        )

    # -- calibration -------------------------------------------------------------------------
    def _load_calibration(self) -> StirringCalibration | None:
        with local_persistent_storage("active_calibrations") as store:
            if not store.get("stirring"):
                return None  # most units: no need to load the calibration machinery (and its memory)
        from pioreactor.plugins_core.calibrations.api import (
            CalibrationError,
            StirringCalibration,
            load_active_calibration,
        )

        try:
            calibration = load_active_calibration("stirring")
        except CalibrationError as err:
            self.logger.warning("The active stirring calibration cannot be used: %s", err)
            return None
        if calibration is not None and not isinstance(calibration, StirringCalibration):
            self.logger.warning("The active stirring calibration %r is not a stirring calibration; ignoring it.", calibration.calibration_name)
            return None
        return calibration

    def calibrated_duty_cycle(self, rpm: float) -> float | None:
        """The duty cycle the active calibration gives for ``rpm`` (0 for 0 RPM), or None."""
        if self.calibration is None:
            return None
        if rpm <= 0:
            return 0.0
        from pioreactor.plugins_core.calibrations.api import CalibrationError

        try:
            return round(min(100.0, max(0.0, self.calibration.rpm_to_duty_cycle(rpm))), 5)
        except CalibrationError as err:
            self.logger.debug("No calibrated duty cycle for %g RPM: %s", rpm, err)
            return None

    # -- lifecycle ---------------------------------------------------------------------------
    # -- dodging OD readings -----------------------------------------------------------------
    def set_enable_dodging_od(self, enabled: bool) -> None:
        self.enable_dodging_od = enabled
        if enabled and self.state == self.READY:
            self.dodger.enable()
        elif not enabled:
            self.dodger.disable()

    def _stop_for_od_reading(self) -> None:
        with self._motor_lock:
            if self.state == self.READY:
                self.pwm.off()
        self.currently_dodging_od = True

    def _resume_after_od_reading(self) -> None:
        self.currently_dodging_od = False
        if self.state == self.READY:
            self._kick_then_run(self.duty_cycle)

    def on_ready(self) -> None:
        """Start (or restart after a pause): kick the bar free, then settle at the duty cycle."""
        if self.enable_dodging_od:
            self.dodger.enable()
        threading.Thread(
            target=self._kick_then_run, args=(self.duty_cycle,), name="stirring-start", daemon=True
        ).start()
        if self.use_rpm:
            self._timer.start()
            self._timer.unpause()

    def _kick_then_run(self, duty_cycle: float) -> None:
        with self._motor_lock:
            if self._stopping.is_set() or self.state != self.READY:
                return
            self.pwm.set_duty_cycle(100.0)
        if self.clock.wait(self._stopping, self.kick_seconds):
            return
        with self._motor_lock:
            if not self._stopping.is_set() and self.state == self.READY:
                self.pwm.set_duty_cycle(duty_cycle)

    def on_ready_to_sleeping(self) -> None:
        self._timer.pause()
        with self._motor_lock:
            self._duty_cycle_when_paused = self.duty_cycle
            self.pwm.off()

    def on_sleeping_to_ready(self) -> None:
        self.duty_cycle = self._duty_cycle_when_paused

    def on_disconnected(self) -> None:
        self.dodger.disable()
        self._stopping.set()
        self._timer.cancel()
        with self._motor_lock:
            self.pwm.off()

    # -- settings ----------------------------------------------------------------------------
    def set_duty_cycle(self, duty_cycle: float) -> None:
        if not 0.0 <= duty_cycle <= 100.0:
            raise ValueError(f"duty_cycle must be between 0 and 100, got {duty_cycle:g}")
        duty_cycle = round(duty_cycle, 5)
        with self._motor_lock:
            if self.state == self.READY:
                self.pwm.set_duty_cycle(duty_cycle)
            self.duty_cycle = duty_cycle

    def set_target_rpm(self, target_rpm: float) -> None:
        if not self.use_rpm:
            raise ValueError(
                "this stirring job runs without RPM feedback (--no-use-rpm); set duty_cycle instead"
            )
        if not 0.0 <= target_rpm <= MAX_RPM:
            raise ValueError(f"target_rpm must be between 0 and {MAX_RPM:g}, got {target_rpm:g}")
        # feed forward: most of the way to the duty cycle that the calibration (or else the last
        # measurement) suggests (RPM is not quite proportional to duty cycle, so the full jump
        # would overshoot), then the PID refines
        last = (self.measured_rpm or {}).get("measured_rpm") or 0.0
        calibrated = self.calibrated_duty_cycle(target_rpm)
        if calibrated is not None and target_rpm > 0:
            self.set_duty_cycle(self.duty_cycle + CALIBRATED_FEED_FORWARD * (calibrated - self.duty_cycle))
        elif last > 50.0 and self.duty_cycle > 0 and target_rpm > 0:
            suggested = self.duty_cycle * target_rpm / last
            self.set_duty_cycle(min(100.0, max(0.0, self.duty_cycle + 0.8 * (suggested - self.duty_cycle))))
        elif target_rpm == 0:
            self.set_duty_cycle(0.0)
        self.pid.set_setpoint(target_rpm)
        self.target_rpm = target_rpm

    # -- the control loop --------------------------------------------------------------------
    def measure_rpm(self) -> float | None:
        """Count hall-sensor edges for ``rpm_measurement_seconds``; None if stopped meanwhile.

        While dodging OD readings, the measurement waits for a stretch without a reading (plus a
        second for the bar to spin up again)."""
        assert self.hall_sensor is not None
        if self.enable_dodging_od and self.dodger.interval is not None:
            now = self.clock.time()
            start = self.dodger.quiet_until(now, self.measurement_seconds + 1.0)
            if start > now and self.clock.wait(self._stopping, start - now + 1.0):
                return None
        self.hall_sensor.reset()
        if self.clock.wait(self._stopping, self.measurement_seconds):
            return None
        return round(rpm_from_edges(self.hall_sensor.edges(), self.pulses_per_revolution), 2)

    def poll_and_update(self) -> None:
        if self.state != self.READY or self.hall_sensor is None:
            return
        rpm = self.measure_rpm()
        if rpm is None or self.state != self.READY:
            return
        self.measured_rpm = {"measured_rpm": rpm, "timestamp": self.clock.utc_timestamp()}
        if rpm == 0.0 and self.duty_cycle > 0 and (self.target_rpm or 0) > 0:
            self.logger.warning("Stirring RPM is 0: the stir bar may have stalled or come loose. Kicking it.")
            self.duty_cycle = min(self.duty_cycle * 1.01, max(self.duty_cycle, STALL_KICK_MAX_DUTY_CYCLE))
            self._kick_then_run(self.duty_cycle)
            return
        correction = self.pid.update(rpm, self.update_interval)
        self.set_duty_cycle(min(100.0, max(0.0, self.duty_cycle + correction)))
        self.bus.publish(
            f"pioreactor/{self.unit}/{self.experiment}/pid_log/rpm",
            json.dumps(self.pid.as_dict() | {"job_name": self.job_name, "target_name": "rpm"}),
        )

"""``dc_based``: the stirrer's RPM at each duty cycle.

The stir bar is kicked free, then the duty cycle steps down from the highest value to the
lowest and back up; at each step the bar settles, and the hall sensor's edges are counted for a
few seconds. A straight line through (duty cycle, RPM) is the calibration; the stirring job
starts at the duty cycle it gives for the target RPM. Steps where the bar did not turn (below
its breakaway) are left out.
"""

from __future__ import annotations

from pioreactor.plugins_core.calibrations.api import (
    CalibrationError,
    RecordedData,
    StirringCalibration,
    fit_polynomial,
)
from pioreactor.plugins_core.stirring.api import rpm_from_edges
from pioreactor.sdk import get_clock, get_config, get_hardware, get_unit_name
from pioreactor.sdk.calibration_protocols import Assistant, CalibrationProtocol, refuse_if_running
from pioreactor.sdk.hardware import pwm_channel_for

SECTION = "stirring.config"
KICK_DUTY_CYCLE = 100.0


def sweep(lowest: float, highest: float, steps: int) -> list[float]:
    """``steps`` duty cycles from ``highest`` down to ``lowest``, then back up (each end once)."""
    if steps < 2:
        raise CalibrationError("use at least 2 steps")
    down = [round(highest - (highest - lowest) * i / (steps - 1), 2) for i in range(steps)]
    return down + list(reversed(down[:-1]))


class DutyCycleBasedStirringProtocol(CalibrationProtocol):
    protocol_name = "dc_based"
    title = "Stirring calibration: RPM from duty cycle"
    description = (
        "The stirrer steps through duty cycles while the hall sensor measures the RPM at each one. "
        "Takes about two minutes."
    )
    requirements = ("a vial with water (or media) and a stir bar, in the Pioreactor",)

    def __init__(self, settle_seconds: float = 5.0, measure_seconds: float = 4.0, steps: int = 7) -> None:
        self.settle_seconds = settle_seconds
        self.measure_seconds = measure_seconds
        self.steps = steps

    def run(self, device: str, assistant: Assistant, *, name: str) -> StirringCalibration:
        if device != "stirring":
            raise CalibrationError(f"dc_based calibrates stirring, not {device!r}")
        refuse_if_running("stirring", "the calibration drives the stirrer itself")
        config = get_config()
        initial = config.getfloat(SECTION, "initial_duty_cycle")
        pwm_hz = config.getfloat(SECTION, "pwm_hz")
        pulses = config.getint(SECTION, "hall_pulses_per_revolution")
        kick_seconds = config.getfloat(SECTION, "kick_duration_seconds")
        clock = get_clock()

        lowest = assistant.ask("Lowest duty cycle (%)", default=float(round(0.75 * initial)), minimum=0.0, maximum=100.0)
        highest = assistant.ask("Highest duty cycle (%)", default=float(round(1.33 * initial)), minimum=0.0, maximum=100.0)
        if highest <= lowest:
            raise CalibrationError(f"the highest duty cycle ({highest:g} %) must be above the lowest ({lowest:g} %)")
        duty_cycles = sweep(lowest, highest, self.steps)
        assistant.pause("Put a vial with water (or media) and a stir bar in the Pioreactor.")

        hardware = get_hardware()
        pwm = hardware.pwm(pwm_channel_for("stirring"), pwm_hz)
        hall = hardware.edge_counter("hall_sensor")
        measured: list[tuple[float, float]] = []

        def kick(duty_cycle: float) -> None:
            pwm.set_duty_cycle(KICK_DUTY_CYCLE)
            clock.sleep(kick_seconds)
            pwm.set_duty_cycle(duty_cycle)

        def measure(duty_cycle: float) -> float:
            clock.sleep(self.settle_seconds)
            hall.reset()
            clock.sleep(self.measure_seconds)
            return rpm_from_edges(hall.edges(), pulses)

        try:
            kick(duty_cycles[0])
            with assistant.progress(duty_cycles, label="Measuring the RPM at each duty cycle") as steps:
                for duty_cycle in steps:
                    pwm.set_duty_cycle(duty_cycle)
                    rpm = measure(duty_cycle)
                    if rpm == 0.0 and duty_cycle > 0:  # stopped below its breakaway: one kick, one retry
                        kick(duty_cycle)
                        rpm = measure(duty_cycle)
                    measured.append((duty_cycle, round(rpm, 2)))
        finally:
            pwm.off()
            pwm.close()
            hall.close()

        for duty_cycle, rpm in measured:
            assistant.say(f"  {duty_cycle:6.2f} %  {rpm:8.1f} RPM")
        turning = [(dc, rpm) for dc, rpm in measured if rpm > 0]
        if len(turning) <= 0.75 * len(measured) or len({dc for dc, _ in turning}) < 2:
            raise CalibrationError(
                f"the stir bar turned at only {len(turning)} of {len(measured)} steps: raise the lowest duty "
                "cycle, and check that the bar sits in the vial above the stirrer and the hall sensor is connected"
            )
        x = [dc for dc, _ in turning]
        y = [rpm for _, rpm in turning]
        curve = fit_polynomial(x, y, degree=1)
        if curve.coefficients[0] <= 0:
            raise CalibrationError("the RPM does not grow with the duty cycle: check the stirrer and the hall sensor")
        return StirringCalibration(
            calibration_name=name,
            calibrated_on_pioreactor_unit=get_unit_name(),
            created_at=clock.utc_now(),
            curve_data_=curve,
            recorded_data=RecordedData(x=x, y=y),
            pwm_hz=pwm_hz,
        )

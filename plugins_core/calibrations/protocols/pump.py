"""``duration_based``: a pump's volume from how long it runs (media, alt-media and waste pumps).

The pump runs for each of a list of durations at a fixed duty cycle; after each run the person
enters the volume it moved (weighed: 1 g of water is 1 ml). A straight line through the points
gives the flow (ml/s, the slope) and the volume lost or gained at each start and stop (the
intercept). On the simulator the protocol weighs for itself: the volume is the change in the
simulated vial's pumped-volume counter, offered as the answer (``-y`` takes it).

Tests and other sources of volumes pass ``measured_volume``: a function of the `PumpRun` that
returns the volume in ml, offered as each run's answer the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from pioreactor.plugins_core.calibrations.api import (
    CalibrationError,
    PumpCalibration,
    RecordedData,
    fit_polynomial,
)
from pioreactor.sdk import get_clock, get_config, get_hardware, get_unit_name
from pioreactor.sdk.calibration_protocols import Assistant, CalibrationProtocol, on_simulator
from pioreactor.sdk.hardware import pwm_channel_for

# upstream's runs: four short, two middle, four long
DEFAULT_DURATIONS = [0.65] * 4 + [1.125] * 2 + [1.6] * 4
DEFAULT_HZ = 250.0
DEFAULT_DUTY_CYCLE = 100.0
PRIME_SECONDS = 5.0
PUMPS = {"media_pump": "media", "alt_media_pump": "alt_media", "waste_pump": "waste"}


@dataclass(frozen=True)
class PumpRun:
    """One timed run of the pump."""

    pump: str  # the [PWM] device: media, alt_media or waste
    index: int  # 0-based, in the order of the runs
    duration: float  # seconds
    duty_cycle: float  # %
    hz: float


class SimulatedScale:
    """Weighs what the simulated pump moved: the change in the vial's counter of added media
    (alt-media) or removed waste during the run. Before each waste run the vial is topped up by
    hand to the brim, so the pump has liquid above the efflux tube to remove."""

    COUNTERS = {"media": "media_added_ml", "alt_media": "alt_media_added_ml", "waste": "waste_removed_ml"}

    def __init__(self, pump: str) -> None:
        from pioreactor.plugins_core.simulator.api import ground_truth

        self.pump = pump
        self.counter = self.COUNTERS[pump]
        self._ground_truth = ground_truth
        self._before = 0.0

    def tare(self) -> None:
        if self.pump == "waste":
            from pioreactor.plugins_core.simulator.api import get_world

            config = get_config()
            brim = config.getfloat("simulation", "overflow_volume_ml", fallback=20.0)
            with get_world() as world:
                missing = brim - world.ground_truth()["volume_ml"]
                if missing > 0:
                    world.dose(media_ml=missing)
        self._before = float(self._ground_truth()[self.counter])

    def __call__(self, run: PumpRun) -> float:
        truth = self._ground_truth()
        if self.pump == "waste":
            floor = get_config().getfloat("simulation", "min_volume_ml", fallback=14.0)
            if truth["volume_ml"] <= floor + 1e-9:
                raise CalibrationError(
                    f"the simulated vial was pumped down to its efflux tube ({floor:g} ml) during the "
                    f"{run.duration:g} s run, so the volume is too low: use shorter durations"
                )
        return float(truth[self.counter]) - self._before


class DurationBasedPumpProtocol(CalibrationProtocol):
    protocol_name = "duration_based"
    title = "Pump calibration: volume from run duration"
    description = (
        "The pump runs for several durations. After each run, weigh or measure what it moved and "
        "enter the volume in ml (1 g of water is 1 ml)."
    )
    requirements = ("a container for the pumped liquid", "a scale (0.01 g) or a graduated cylinder", "water or media")

    def __init__(self, measured_volume: Callable[[PumpRun], float] | None = None, simulate: bool | None = None) -> None:
        self.measured_volume = measured_volume
        self.simulate = simulate  # weigh on the simulator; None: when the hardware is the simulator

    def run(self, device: str, assistant: Assistant, *, name: str) -> PumpCalibration:
        if device not in PUMPS:
            raise CalibrationError(f"duration_based calibrates {', '.join(PUMPS)}, not {device!r}")
        pump = PUMPS[device]
        channel = pwm_channel_for(pump)
        clock = get_clock()

        hz = assistant.ask("PWM frequency of the pump (Hz)", default=DEFAULT_HZ, minimum=1.0)
        duty_cycle = assistant.ask("Duty cycle to run the pump at (%)", default=DEFAULT_DUTY_CYCLE, minimum=1.0, maximum=100.0)
        durations = assistant.ask_numbers("Durations of the runs (s), separated by commas", default=DEFAULT_DURATIONS, minimum=0.0)
        if any(d <= 0 for d in durations):
            raise CalibrationError("every duration must be more than 0 s")
        if len(set(durations)) < 2:
            raise CalibrationError("use at least two different durations, so the line has a slope")

        measure: Any = self.measured_volume
        if measure is None and (on_simulator() if self.simulate is None else self.simulate):
            measure = SimulatedScale(pump)
            assistant.say("On the simulator: the volume of each run is weighed for you (offered as the answer).")

        volumes: list[float] = []
        with _culture_set_aside():
            self._runs(pump, channel, hz, duty_cycle, durations, measure, assistant, volumes)

        curve = fit_polynomial(durations, volumes, degree=1)
        slope = curve.coefficients[0]
        if not math.isfinite(slope) or slope <= 0:
            raise CalibrationError(
                f"the volumes do not grow with the duration (slope {slope:.4g} ml/s): check the tubes and the entries"
            )
        assistant.say(f"Flow: {slope:.4g} ml/s at {duty_cycle:g} % duty cycle; {curve.coefficients[1]:+.4g} ml per run.")
        return PumpCalibration(
            calibration_name=name,
            calibrated_on_pioreactor_unit=get_unit_name(),
            created_at=clock.utc_now(),
            curve_data_=curve,
            recorded_data=RecordedData(x=list(durations), y=volumes),
            hz=hz,
            dc=duty_cycle,
        )

    def _runs(
        self,
        pump: str,
        channel: str,
        hz: float,
        duty_cycle: float,
        durations: list[float],
        measure: Any,
        assistant: Assistant,
        volumes: list[float],
    ) -> None:
        clock = get_clock()
        pwm = get_hardware().pwm(channel, hz)
        try:
            assistant.pause(
                f"Put the {pump} pump's inlet tube in the liquid and its outlet tube in a container "
                "(on a scale if you weigh)."
            )
            if assistant.confirm(f"Prime the tubes first (run the pump for {PRIME_SECONDS:g} s)?", default=True):
                self._pump(pwm, clock, duty_cycle, PRIME_SECONDS)
            for index, duration in enumerate(durations):
                run = PumpRun(pump, index, duration, duty_cycle, hz)
                assistant.pause(f"Run {index + 1} of {len(durations)}: empty the container (or tare the scale).")
                if hasattr(measure, "tare"):
                    measure.tare()
                with assistant.progress([duration], label=f"Pumping for {duration:g} s") as steps:
                    for seconds in steps:
                        self._pump(pwm, clock, duty_cycle, seconds)
                offered = None if measure is None else round(float(measure(run)), 4)
                volume = assistant.ask(f"Volume moved in {duration:g} s (ml)", default=offered, minimum=0.0)
                volumes.append(float(volume))
        finally:
            pwm.off()
            pwm.close()

    @staticmethod
    def _pump(pwm: Any, clock: Any, duty_cycle: float, seconds: float) -> None:
        # timed from before the output switches on, so the time switching takes is not added
        deadline = clock.monotonic() + seconds
        timed = getattr(pwm, "set_duty_cycle_for", None)  # a simulated pump keeps the deadline itself
        if timed is not None and timed(duty_cycle, seconds):
            deadline = clock.monotonic() + seconds  # from its own switch-on: never cut it short
        else:
            pwm.set_duty_cycle(duty_cycle)
        try:
            clock.sleep(deadline - clock.monotonic())
        finally:
            pwm.off()


def _culture_set_aside() -> AbstractContextManager[None]:
    """On the simulator, the culture leaves the holder while its pumps move water, and comes back
    untouched (no calibration liquid in the vial); nothing to do on real hardware."""
    if not on_simulator():
        return nullcontext()
    from pioreactor.plugins_core.simulator.api import culture_set_aside

    return culture_set_aside()

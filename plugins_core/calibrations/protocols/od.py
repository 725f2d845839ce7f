"""``standards``: OD600 from the photodiode's signal at one angle (od45, od90, od135, od180).

The person puts in vials of known OD600 (standards) one after the other, then a vial of media
only (the blank, OD600 0). For each, od_reading's own pipeline (IR LED, REF normalisation,
offsets) takes a few readings in this process, without any calibration applied, and the median
is kept. A polynomial through (OD600, signal) is the calibration; od_reading inverts it to
report OD600. Stirring runs meanwhile, as it does in an experiment (unless it already runs).

On the simulator, swapping vials is simulated: the vial's OD is set to each standard's.
"""

from __future__ import annotations

import statistics
from contextlib import ExitStack
from typing import Any

from pioreactor.plugins_core.calibrations.api import (
    CalibrationError,
    ODCalibration,
    RecordedData,
    fit_polynomial,
)
from pioreactor.sdk import get_assigned_experiment, get_clock, get_config, get_unit_name
from pioreactor.sdk.calibration_protocols import (
    Assistant,
    CalibrationProtocol,
    is_job_running,
    on_simulator,
    refuse_if_running,
)

DEFAULT_SIMULATED_STANDARDS = [0.1, 0.25, 0.5, 1.0, 1.5, 2.0]
ANGLES = ("45", "90", "135", "180")
KEPT_STATE = ("temperature", "volume_ml", "alt_media_fraction", "heater_duty_cycle", "leds")


def photodiode_channel(angle: str) -> str:
    """The ADC channel of the photodiode at ``angle``, from ``[od_config.photodiode_channel]``."""
    from pioreactor.plugins_core.od_reading.api import CHANNEL_SECTION, channel_angles

    angles, _ = channel_angles(get_config())
    channels = sorted(channel for channel, a in angles.items() if a == angle)
    if not channels:
        raise CalibrationError(
            f"no photodiode sits at {angle} degrees: [{CHANNEL_SECTION}] in config.ini has "
            f"{', '.join(f'{c}={a}' for c, a in sorted(angles.items()))}"
        )
    return channels[0]


def simulate_vial(od600: float) -> None:
    """Stand in for swapping vials: the simulated vial now holds a culture at ``od600``."""
    from pioreactor.plugins_core.simulator.api import ground_truth, reset_world

    now = ground_truth()
    reset_world(od=od600, **{key: now[key] for key in KEPT_STATE})


def is_monotonic(calibration: ODCalibration, samples: int = 50) -> bool:
    low, high = min(calibration.recorded_data.x), max(calibration.recorded_data.x)
    values = [calibration.x_to_y(low + (high - low) * i / samples) for i in range(samples + 1)]
    steps = [b - a for a, b in zip(values, values[1:], strict=False)]
    return all(s >= 0 for s in steps) or all(s <= 0 for s in steps)


class ODStandardsProtocol(CalibrationProtocol):
    protocol_name = "standards"
    title = "OD calibration from standards"
    description = (
        "Insert vials of known OD600 one after the other, then a vial of media only (the blank). "
        "Each is read a few times at the photodiode's angle."
    )
    requirements = ("vials of known OD600 (standards), each with a stir bar", "a vial of media only (the blank)")

    def __init__(self, readings_per_vial: int = 5, simulate: bool | None = None) -> None:
        self.readings_per_vial = readings_per_vial
        self.simulate = simulate  # None: when the hardware is the simulator

    def run(self, device: str, assistant: Assistant, *, name: str) -> ODCalibration:
        angle = device.removeprefix("od")
        if angle not in ANGLES:
            raise CalibrationError(f"standards calibrates od45, od90, od135 or od180, not {device!r}")
        channel = photodiode_channel(angle)
        refuse_if_running("od_reading", "the calibration reads the photodiodes itself")
        simulate = on_simulator() if self.simulate is None else self.simulate

        standards = assistant.ask_numbers(
            "OD600 of your standards, separated by commas (the blank comes at the end)",
            default=DEFAULT_SIMULATED_STANDARDS if simulate else None,
            minimum=0.0,
        )
        with_blank = assistant.confirm("Finish with a blank (a vial of media only, OD600 0)?", default=True)
        vials = list(standards) + ([0.0] if with_blank else [])
        if len(set(vials)) < 2:
            raise CalibrationError("use at least two different OD600 values")
        if simulate:
            assistant.say("On the simulator: each 'vial' is the simulated vial set to that OD600.")

        unit, experiment = get_unit_name(), f"_testing_{get_assigned_experiment()}"
        jobs: list[Any] = []
        signals: list[float] = []
        aside = ExitStack()
        if simulate:  # the standards take the culture's place; it comes back as it was
            from pioreactor.plugins_core.simulator.api import culture_set_aside

            aside.enter_context(culture_set_aside())
        try:
            if not is_job_running("stirring") and assistant.confirm("Stir the vials while reading them?", default=True):
                from pioreactor.plugins_core.stirring.api import Stirrer

                jobs.append(Stirrer(unit, experiment))
            from pioreactor.plugins_core.od_reading.api import ODReader

            # no timer of its own to speak of: the readings are taken below, one by one
            reader = ODReader(unit, experiment, interval=86_400.0, use_calibration=False)
            jobs.append(reader)
            for number, od600 in enumerate(vials, start=1):
                what = "the blank (media only)" if with_blank and number == len(vials) else f"the OD600 {od600:g} standard"
                assistant.pause(f"Vial {number} of {len(vials)}: put in {what}.")
                if simulate:
                    simulate_vial(od600)
                values = []
                with assistant.progress(range(self.readings_per_vial), label=f"Reading OD600 {od600:g}") as steps:
                    for _ in steps:
                        readings = reader.take_reading() if reader.state == reader.READY else None
                        if readings is None:  # saturated, or stopped by Ctrl-C (the job's signal handler)
                            raise CalibrationError("the OD reader stopped (interrupted, or a photodiode saturated: see the log)")
                        values.append(readings.ods[channel].od)
                signals.append(statistics.median(values))
                assistant.say(f"  OD600 {od600:g}: signal {signals[-1]:.5g}")
        finally:
            for job in reversed(jobs):  # the first job owns this process's MQTT connection
                job.clean_up(reason="calibration finished")
            aside.close()

        default_degree = 1 if len(vials) < 4 else 2
        degree = assistant.ask(
            "Degree of the polynomial through the points", default=default_degree, kind=int, minimum=1, maximum=min(5, len(vials) - 1)
        )
        calibration = ODCalibration(
            calibration_name=name,
            calibrated_on_pioreactor_unit=unit,
            created_at=get_clock().utc_now(),
            curve_data_=fit_polynomial(vials, signals, degree=int(degree)),
            recorded_data=RecordedData(x=vials, y=signals),
            angle=angle,
            pd_channel=channel,
            ir_led_intensity=float(reader.ir_led_intensity),
        )
        if not is_monotonic(calibration):
            assistant.say(
                "Warning: the curve turns back within the standards' range, so some signals match two OD600s. "
                "Try a lower degree: pio calibrations analyze --device " + device + " --name " + name
            )
        return calibration

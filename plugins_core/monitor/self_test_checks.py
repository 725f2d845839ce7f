"""The self-test's hardware checks (upstream's names), run against whatever backend is active.

Each check takes a :class:`Bench` and raises :class:`CheckFailed` (or any exception) to fail.
They expect a vial of water in the unit, as upstream's do. On the simulator each one fails
under a fault (``plugins_core/simulator/faults.py``):

=============================================================  ===============================
check                                                          fails with
=============================================================  ===============================
test_pioreactor_HAT_present                                    ``hat_missing``
test_detect_heating_pcb                                        ``heating_pcb_missing``
test_positive_correlation_between_temperature_and_heating      ``heater_disconnected``
test_aux_power_is_not_too_high                                 ``pwm_rail_voltage`` above 18
test_all_positive_correlations_between_pds_and_leds            ``photodiode_disconnected`` (REF)
test_ambient_light_interference                                ``ambient_light``
test_REF_is_lower_than_0_dot_256_volts                         ``photodiode_disconnected`` (REF)
test_REF_is_in_correct_position                                ``reference_photodiode_misplaced``
test_PD_is_near_0_volts_for_blank                              a turbid vial, ``ambient_light``
test_positive_correlation_between_rpm_and_stirring             ``stirrer_stalled``
=============================================================  ===============================
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pioreactor.sdk import Clock, Config
from pioreactor.sdk.hardware import pwm_channel_for

HEATING_DUTY_CYCLES = [0, 3, 6, 9, 12, 15, 18, 21]
IR_INTENSITIES = [20, 23, 26, 53, 44, 38, 35, 29, 47, 50, 32, 41]
STIRRING_DUTY_CYCLES = [25, 35, 45, 55, 65]
MIN_CORRELATION = 0.9
REPORTED_CORRELATION = 0.92
MAX_AUX_VOLTS = 18.0
MAX_AMBIENT_VOLTS = 0.080
REF_VOLTS = (0.05, 0.256)
MAX_BLANK_VOLTS = 0.035
#: the REF photodiode faces the IR LED: in water it reads this many times any signal photodiode
REF_OVER_SIGNAL = 3.0
SAMPLES = 25


class CheckFailed(Exception):
    """A check's finding, worded for the person at the bench."""


@dataclass
class Bench:
    """What a check may use: the backend, its board, config, the clock and a few helpers."""

    hardware: Any
    board: Any
    config: Config
    clock: Clock
    hold: Callable[[Any], Any]
    set_leds: Callable[[dict[str, float]], Any]
    stop: threading.Event
    published: dict[str, Any] = field(default_factory=dict)

    # -- photodiodes and LEDs ----------------------------------------------------------------
    def photodiodes(self) -> dict[str, str]:
        """ADC channel -> angle of each photodiode fitted (``od_config.photodiode_channel``)."""
        section = "od_config.photodiode_channel"
        mapping = self.config.section(section) if self.config.has_section(section) else {"1": "REF", "2": "90"}
        return {channel: angle.strip() for channel, angle in mapping.items() if angle.strip()}

    def ref_channel(self) -> str:
        for channel, angle in self.photodiodes().items():
            if angle == "REF":
                return channel
        raise CheckFailed("no photodiode is marked REF under [od_config.photodiode_channel] in config.ini")

    def signal_channels(self) -> dict[str, str]:
        return {c: a for c, a in self.photodiodes().items() if a != "REF"}

    def ir_channel(self) -> str:
        for channel, label in self.config.section("leds").items():
            if label.strip() == "IR":
                return channel
        raise CheckFailed("no LED channel is labelled IR under [leds] in config.ini (e.g. A=IR)")

    def ir_intensity(self) -> float:
        text = self.config.get("od_config", "ir_led_intensity", fallback="auto").strip()
        return 50.0 if text == "auto" else float(text)

    def read(self, channel: str, samples: int = SAMPLES) -> tuple[float, float]:
        """Mean and variance of ``samples`` readings of ADC ``channel``, in volts."""
        import statistics  # here, as below: every process imports this plugin module, few self-test

        adc = self.hardware.adc()
        values = [adc.read_voltage(channel) for _ in range(samples)]
        return statistics.fmean(values), statistics.pvariance(values)

    def only_led(self, channel: str | None, intensity: float) -> None:
        leds = {c: 0.0 for c in ("A", "B", "C", "D")}
        if channel is not None:
            leds[channel] = intensity
        self.set_leds(leds)

    def pause(self, seconds: float) -> None:
        if self.clock.wait(self.stop, seconds):
            raise CheckFailed("stopped")


def correlation(x: list[float], y: list[float]) -> float:
    """Pearson's r; 0 when either side does not vary (a stalled stirrer, a dead sensor)."""
    import statistics

    try:
        value = statistics.correlation(x, y)
    except statistics.StatisticsError:
        return 0.0
    return value if math.isfinite(value) else 0.0


# -- the checks ----------------------------------------------------------------------------------
def test_pioreactor_HAT_present(bench: Bench) -> None:
    present = getattr(bench.board, "hat_present", lambda: None)()
    if present is None:
        raise CheckFailed(f"the {bench.hardware.name} backend cannot tell whether a HAT is there")
    if not present:
        raise CheckFailed("the HAT does not answer on I2C: is it seated on the header, and powered?")


def test_detect_heating_pcb(bench: Bench) -> None:
    present = getattr(bench.board, "heating_pcb_present", lambda: None)()
    if present is False:
        raise CheckFailed("the heating PCB's temperature sensor does not answer: is its ribbon cable in?")
    celsius = bench.hardware.temperature_sensor().read_celsius()
    if not (math.isfinite(celsius) and -10.0 < celsius < 80.0):
        raise CheckFailed(f"the heating PCB's temperature sensor reads {celsius} °C, which cannot be right")


def test_positive_correlation_between_temperature_and_heating(bench: Bench) -> None:
    import statistics

    heater = bench.hold(bench.hardware.pwm(pwm_channel_for("heating"), 16.0))
    sensor = bench.hardware.temperature_sensor()
    step = bench.config.getfloat("self_test", "heating_step_seconds", fallback=10.0)
    temperatures = []
    try:
        for duty_cycle in HEATING_DUTY_CYCLES:
            heater.set_duty_cycle(duty_cycle)
            bench.pause(step)
            temperatures.append(statistics.fmean(sensor.read_celsius() for _ in range(3)))
    finally:
        heater.close()
    r = correlation([float(d) for d in HEATING_DUTY_CYCLES], temperatures)
    if r <= MIN_CORRELATION:
        raise CheckFailed(
            f"the temperature did not rise with the heater (correlation {r:.2f}, needs > {MIN_CORRELATION}): "
            "is the heating PCB connected?"
        )


def test_aux_power_is_not_too_high(bench: Bench) -> None:
    volts = getattr(bench.board, "pwm_rail_volts", lambda: None)()
    if volts is not None and volts > MAX_AUX_VOLTS:
        raise CheckFailed(f"the AUX/PWM supply is at {volts:.1f} V (at most {MAX_AUX_VOLTS:g} V): it can damage pumps and the heater")


def test_all_positive_correlations_between_pds_and_leds(bench: Bench) -> None:
    ir = bench.ir_channel()
    channels = bench.photodiodes()
    readings: dict[str, list[float]] = {channel: [] for channel in channels}
    for intensity in IR_INTENSITIES:
        bench.only_led(ir, intensity)
        for channel in channels:
            readings[channel].append(bench.read(channel, samples=8)[0])
    bench.only_led(None, 0.0)
    correlations = {channel: correlation([float(i) for i in IR_INTENSITIES], values) for channel, values in readings.items()}
    bench.published["correlations_between_pds_and_leds"] = [
        [ir, channels[channel]] for channel, r in correlations.items() if r > REPORTED_CORRELATION
    ]
    ref = bench.ref_channel()
    if correlations[ref] <= MIN_CORRELATION:
        raise CheckFailed(
            f"the REF photodiode (channel {ref}) does not follow IR LED {ir} (correlation {correlations[ref]:.2f}, "
            f"needs > {MIN_CORRELATION}): is the photodiode plugged in, and the IR LED in its slot?"
        )


def test_ambient_light_interference(bench: Bench) -> None:
    bench.only_led(None, 0.0)
    bright = {channel: bench.read(channel)[0] for channel in bench.photodiodes()}
    lit = {channel: volts for channel, volts in bright.items() if volts >= MAX_AMBIENT_VOLTS}
    if lit:
        seen = ", ".join(f"channel {c} {v:.3f} V" for c, v in lit.items())
        raise CheckFailed(f"with every LED off the photodiodes still see light ({seen}; under {MAX_AMBIENT_VOLTS} V expected): close the lid, shade the unit")


def test_REF_is_lower_than_0_dot_256_volts(bench: Bench) -> None:
    ref = bench.ref_channel()
    bench.only_led(bench.ir_channel(), bench.ir_intensity())
    mean, variance = bench.read(ref)
    bench.only_led(None, 0.0)
    low, high = REF_VOLTS
    if not low < mean < high:
        raise CheckFailed(f"the REF photodiode reads {mean:.3f} V with the IR LED on (expected between {low} and {high} V)")
    if variance >= 1e-2:
        raise CheckFailed(f"the REF photodiode's reading is unsteady (variance {variance:.3g} V²)")


def test_REF_is_in_correct_position(bench: Bench) -> None:
    ref = bench.ref_channel()
    bench.only_led(bench.ir_channel(), bench.ir_intensity())
    ref_volts = bench.read(ref)[0]
    signal = {channel: bench.read(channel)[0] for channel in bench.signal_channels()}
    bench.only_led(None, 0.0)
    brighter = {c: v for c, v in signal.items() if v * REF_OVER_SIGNAL >= ref_volts}
    if brighter:
        seen = ", ".join(f"channel {c} ({bench.photodiodes()[c]}) {v:.3f} V" for c, v in brighter.items())
        raise CheckFailed(
            f"the REF photodiode (channel {ref}) reads {ref_volts:.3f} V, no brighter than {seen}: "
            "is REF in the slot facing the IR LED, and is the vial water?"
        )


def test_PD_is_near_0_volts_for_blank(bench: Bench) -> None:
    bench.only_led(bench.ir_channel(), bench.ir_intensity())
    signal = {channel: bench.read(channel)[0] for channel in bench.signal_channels()}
    bench.only_led(None, 0.0)
    high = {c: v for c, v in signal.items() if v > MAX_BLANK_VOLTS}
    if high:
        seen = ", ".join(f"channel {c} {v:.3f} V" for c, v in high.items())
        raise CheckFailed(f"in a vial of water the signal photodiodes should read under {MAX_BLANK_VOLTS} V ({seen}): is the vial clear water?")


def test_positive_correlation_between_rpm_and_stirring(bench: Bench) -> None:
    pwm = bench.hold(bench.hardware.pwm(pwm_channel_for("stirring"), bench.config.getfloat("stirring.config", "pwm_hz", fallback=200.0)))
    hall = bench.hold(bench.hardware.edge_counter("hall_sensor"))
    step = bench.config.getfloat("self_test", "stirring_step_seconds", fallback=3.0)
    rpms = []
    try:
        for duty_cycle in STIRRING_DUTY_CYCLES:
            pwm.set_duty_cycle(duty_cycle)
            bench.pause(step)
            hall.reset()
            bench.pause(2.0)
            edges = hall.edges()
            span = edges[-1] - edges[0] if len(edges) > 1 else 0.0
            rpms.append((len(edges) - 1) / span * 60.0 if span > 0 else 0.0)
    finally:
        pwm.close()
        hall.close()
    r = correlation([float(d) for d in STIRRING_DUTY_CYCLES], rpms)
    if r <= MIN_CORRELATION:
        raise CheckFailed(
            f"the stirrer's speed did not follow its duty cycle (RPMs {', '.join(f'{x:.0f}' for x in rpms)}): "
            "is the stir bar in the vial, the fan connected and free to turn?"
        )


BUILT_IN_CHECKS: dict[str, Callable[[Bench], None]] = {
    check.__name__: check
    for check in (
        test_pioreactor_HAT_present,
        test_detect_heating_pcb,
        test_positive_correlation_between_temperature_and_heating,
        test_aux_power_is_not_too_high,
        test_all_positive_correlations_between_pds_and_leds,
        test_ambient_light_interference,
        test_REF_is_lower_than_0_dot_256_volts,
        test_REF_is_in_correct_position,
        test_PD_is_near_0_volts_for_blank,
        test_positive_correlation_between_rpm_and_stirring,
    )
}

# checks that other plugins add (register_self_test), after the built-in ones
_ADDED: dict[str, Callable[[Bench], None]] = {}


def register_self_test(check: Callable[[Bench], None], name: str | None = None) -> None:
    """Add ``check`` to ``pio run self_test`` (call it when your plugin is imported). It gets a
    :class:`Bench` and fails by raising (:class:`CheckFailed` with what to look at)."""
    name = name or check.__name__
    if name in BUILT_IN_CHECKS:
        raise ValueError(f"{name!r} is a built-in self-test check: give yours another name")
    _ADDED[name] = check


def all_checks() -> dict[str, Callable[[Bench], None]]:
    """The built-in checks, then those plugins added."""
    return {**BUILT_IN_CHECKS, **_ADDED}

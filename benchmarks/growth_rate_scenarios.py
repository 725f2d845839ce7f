"""Growth-rate scenarios on the simulated vial, on simulated time (no processes, no wall clock).

Each scenario drives the simulator's `Vial` (growth, lag, saturation, temperature, dilution)
and its optics (the 90° photodiode, noise, outliers) at explicit simulated times, turns the
photodiode's signal into what od_reading publishes, normalises it as growth_rate_calculating
does, feeds `GrowthRateFilter` reading by reading and compares each estimate with the truth.

With ``calibrated=True`` the readings go through a perfect OD600 calibration first (what an
active od90 calibration does in od_reading), so the estimate is of the biomass growth rate, the
rate a scientist means; without one the 90° signal is sub-linear in OD and the estimate follows
the rate that signal shows (``optical_growth_rate``).

Used by ``tests/test_growth_rate_phases.py`` and printed as a table by
``.venv/bin/python benchmarks/growth_rate_benchmarks.py``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from pioreactor.plugins_core.growth_rate.ekf import FilterSettings, GrowthRateFilter
from pioreactor.plugins_core.simulator.sensors import Optics, optical_growth_rate, photodiode_signal
from pioreactor.plugins_core.simulator.vial import Vial, VialParameters

HOUR = 3600.0
IR_PERCENT = 50.0
T0 = 1_800_000_000.0


@dataclass
class Scenario:
    name: str
    hours: float
    params: VialParameters
    initial_od: float = 0.05
    temperature: float = 37.0
    interval_seconds: float = 5.0  # od_reading's default
    statistics_readings: int = 35
    relative_noise: float = 0.005  # per reading (od_reading averages 16 samples of 1 %: 0.25 %)
    outlier_probability: float = 0.01
    #: called before each reading with (vial, hours since start, latest nOD estimate): dosing, heat
    control: Callable[[Vial, float, float], bool] | None = None
    #: (start, end) hours of the steady states, to check within 5 %
    steady: list[tuple[float, float]] = field(default_factory=list)
    #: hours at which the true rate steps (a temperature shift), to time the response
    steps: list[float] = field(default_factory=list)
    seed: int = 1


@dataclass
class Result:
    name: str
    calibrated: bool
    hours: list[float]
    estimates: list[float]
    truth: list[float]  # the rate compared with: biomass if calibrated, else optical
    biomass: list[float]
    optical: list[float]
    lag_end: float
    peak: float
    outliers: int
    readings: int
    doses: int

    steps: list[float] = field(default_factory=list)

    @property
    def judged_from(self) -> float:
        """Estimates count from the end of the lag (the true rate at 90 % of its peak), and no
        sooner than an hour after the filter started (it starts from a rate of 0)."""
        return max(self.lag_end, self.hours[0] + 1.0)

    def after_lag(self) -> list[tuple[float, float, float]]:
        """(hour, estimate, truth) after the lag, but for the hour after each step of the rate."""
        return [
            (h, e, t)
            for h, e, t in zip(self.hours, self.estimates, self.truth, strict=True)
            if h >= self.judged_from and not any(s <= h < s + 1.0 for s in self.steps)
        ]

    def worst_error_after_lag(self) -> float:
        """The largest |estimate − truth| after the lag, as a fraction of the run's peak true rate."""
        return max((abs(e - t) for _, e, t in self.after_lag()), default=0.0) / self.peak

    def error_at(self, hour: float) -> tuple[float, float]:
        """(estimate, truth) at the reading nearest ``hour``."""
        i = min(range(len(self.hours)), key=lambda k: abs(self.hours[k] - hour))
        return self.estimates[i], self.truth[i]

    def steady_error(self, start: float, end: float) -> tuple[float, float]:
        """(mean estimate / mean truth − 1, worst single estimate's relative error) over a steady state."""
        window = [(e, t) for h, e, t in zip(self.hours, self.estimates, self.truth, strict=True) if start <= h <= end]
        mean_e = sum(e for e, _ in window) / len(window)
        mean_t = sum(t for _, t in window) / len(window)
        return mean_e / mean_t - 1, max(abs(e / t - 1) for e, t in window if t > 0)

    def response_hours(self, step: float, until: float, tolerance: float = 0.10) -> float:
        """Hours after ``step`` until the estimate is, and stays until ``until``, within
        ``tolerance`` × peak of the truth."""
        last_bad = step
        for h, e, t in zip(self.hours, self.estimates, self.truth, strict=True):
            if step <= h < until and abs(e - t) > tolerance * self.peak:
                last_bad = h
        return last_bad - step


def normalised_reading(od: float, optics: Optics, rng: random.Random, scenario: Scenario, calibrated: bool) -> float:
    """od_reading's number for a vial at ``od``: the 90° signal over the REF signal, blank-free
    (optionally through a perfect OD600 calibration), with noise and outliers."""
    signal = photodiode_signal("90", od, IR_PERCENT, 0.0, optics) - optics.dark_offset
    volts = signal * (1.0 + rng.gauss(0.0, scenario.relative_noise)) + rng.gauss(0.0, optics.noise_floor)
    if rng.random() < scenario.outlier_probability:
        volts *= 1.0 + rng.choice((-1.0, 1.0)) * optics.outlier_size
    reading = volts / (optics.gain_ref * IR_PERCENT)
    if not calibrated:
        return reading
    x = max(volts, 0.0) / (optics.gain_90 * IR_PERCENT)  # invert x = OD / (1 + OD / s)
    s = optics.scatter_saturation_od
    return x / (1.0 - x / s) if x < 0.99 * s else 99.0 * s


def run(scenario: Scenario, *, calibrated: bool = True, settings: FilterSettings | None = None) -> Result:
    rng = random.Random(scenario.seed)
    optics = Optics()
    vial = Vial.new(scenario.params, T0, od=scenario.initial_od, temperature=scenario.temperature)
    vial.set_heater_duty_cycle(0.0)
    stats: list[float] = []
    filt: GrowthRateFilter | None = None
    mean = 1.0
    last_t = T0
    hours, estimates, truth, biomass, optical = [], [], [], [], []
    outliers = doses = readings = 0
    n = int(scenario.hours * HOUR / scenario.interval_seconds)
    for i in range(1, n + 1):
        t = T0 + i * scenario.interval_seconds
        h = (t - T0) / HOUR
        vial.advance_to(t)
        if scenario.control is not None and filt is not None:
            if scenario.control(vial, h, filt.od_filtered):
                filt.note_dosing_event()
                doses += 1
        elif scenario.control is not None:
            scenario.control(vial, h, math.nan)
        reading = normalised_reading(vial.od, optics, rng, scenario, calibrated)
        readings += 1
        if len(stats) < scenario.statistics_readings:
            stats.append(reading)
            if len(stats) == scenario.statistics_readings:
                mean = sum(stats) / len(stats)
                variance = sum((r - mean) ** 2 for r in stats) / (len(stats) - 1)
                filt = GrowthRateFilter(
                    angles={"2": "90"},
                    relative_variances={"2": variance / mean**2},
                    initial_od=1.0,
                    settings=settings,
                )
                last_t = t
            continue
        assert filt is not None
        out = filt.update({"2": reading / mean}, (t - last_t) / HOUR)
        last_t = t
        outliers += len(out.outliers)
        hours.append(h)
        estimates.append(out.growth_rate)
        bio = vial.true_growth_rate()
        opt = optical_growth_rate("90", vial.od, bio, optics)
        biomass.append(bio)
        optical.append(opt)
        truth.append(bio if calibrated else opt)
    peak = max(truth)
    lag_end = next(h for h, r in zip(hours, truth, strict=True) if r >= 0.9 * peak)
    return Result(
        scenario.name, calibrated, hours, estimates, truth, biomass, optical, lag_end, peak, outliers, readings,
        doses, list(scenario.steps),
    )


# -- the scenarios -----------------------------------------------------------------------------
def batch() -> Scenario:
    """Lag, exponential growth and stationary phase: 20 h from OD 0.05 to the carrying capacity."""
    params = VialParameters(doubling_time_minutes=75, lag_hours=2.0, max_od=4.0, ambient_temperature=37.0)
    return Scenario("batch (lag, exponential, stationary)", 20.0, params)


def _turbidostat(target_nod: float, exchange_ml: float) -> Callable[[Vial, float, float], bool]:
    def control(vial: Vial, hours: float, nod: float) -> bool:
        if nod >= target_nod:
            vial.dose(media_ml=exchange_ml, waste_ml=exchange_ml)
            return True
        return False

    return control


def turbidostat() -> Scenario:
    """A turbidostat at OD ~1 after growing from 0.25, 0.75 ml exchanges (the demo's settings)."""
    params = VialParameters(doubling_time_minutes=150, lag_hours=1.0, max_od=4.0, ambient_temperature=37.0)
    return Scenario(
        "turbidostat (OD ~1)", 16.0, params, initial_od=0.25, control=_turbidostat(4.0, 0.75), steady=[(8.0, 16.0)]
    )


def turbidostat_high_od() -> Scenario:
    """A turbidostat at OD ~5 (where the 90° signal is most sub-linear), on a denser culture."""
    params = VialParameters(doubling_time_minutes=60, lag_hours=0.5, max_od=12.0, ambient_temperature=37.0)
    return Scenario(
        "turbidostat (OD ~5)", 14.0, params, initial_od=1.0, control=_turbidostat(5.0, 0.75), steady=[(7.0, 14.0)]
    )


def chemostat() -> Scenario:
    """A chemostat: 0.5 ml every 10 minutes into 14 ml (dilution rate 0.21 h⁻¹); the culture
    settles where its growth rate equals the dilution rate."""
    params = VialParameters(doubling_time_minutes=90, lag_hours=1.0, max_od=4.0, ambient_temperature=37.0)
    state = {"next": 0.0}

    def control(vial: Vial, hours: float, nod: float) -> bool:
        if hours >= 2.0 and hours >= state["next"]:
            state["next"] = hours + 10 / 60
            vial.dose(media_ml=0.5, waste_ml=0.5)
            return True
        return False

    return Scenario("chemostat (D = 0.21 h⁻¹)", 30.0, params, initial_od=0.2, control=control, steady=[(22.0, 30.0)])


def temperature_shift() -> Scenario:
    """Exponential growth at 37 °C, then the heater is turned down to 30 °C at hour 4 and back
    to 37 °C at hour 8: two steps of the growth rate, in a dilute culture."""
    params = VialParameters(doubling_time_minutes=90, lag_hours=0.0, max_od=40.0, ambient_temperature=22.0)

    def control(vial: Vial, hours: float, nod: float) -> bool:
        target = 30.0 if 4.0 <= hours < 8.0 else 37.0
        vial.set_heater_duty_cycle((target - 22.0) / 18.0 * 100.0)
        return False

    return Scenario(
        "temperature shift (37 → 30 → 37 °C)", 12.0, params, initial_od=0.05, control=control, steps=[4.0, 8.0],
        steady=[(6.0, 8.0), (10.0, 12.0)],
    )


SCENARIOS: list[Callable[[], Scenario]] = [batch, turbidostat, turbidostat_high_od, chemostat, temperature_shift]

"""The living vial: culture growth, dilution, volume and heat, as pure functions of time.

No I/O here: a `Vial` is advanced explicitly (``vial.advance_to(t)``), which makes the model
testable with explicit times. `world.py` keeps one vial per unit in storage and advances it on
the kernel's clock.

Growth. Biomass is tracked as OD600. Its specific growth rate is

    d ln(OD)/dt = mu_max(T) * alpha(t) * (1 - (OD / max_od) ** m)

* ``mu_max(T)`` is ``ln 2 / doubling time`` at the optimal temperature, scaled by the cardinal
  temperature model with inflection (Rosso et al. 1993): zero below ``min_growth_temperature``
  and above ``max_growth_temperature``, 1 at ``optimal_temperature``.
* ``alpha = q / (1 + q)`` is Baranyi's adjustment for the lag: the cells' physiological state
  ``q`` grows as ``dq/dt = mu_max(T) q`` from ``q0 = 1 / (exp(mu_opt * lag) - 1)``, so at the
  optimum the growth curve's tangent meets the initial OD after ``lag_hours``.
* ``(1 - (OD / max_od) ** m)`` is the saturation at the carrying capacity (Richards' generalised
  logistic; ``m = saturation_curvature``: with 2, growth stays near its maximum until the
  culture is a quarter of the way there, as nutrient-limited cultures do).

Within a sub-step of constant temperature and heater power both have closed forms, which is
what `Vial.advance_to` uses (sub-steps of at most 30 simulated seconds, shorter while a pump
runs).

Heat. ``dT/dt = (T_ambient + heater_max_delta_c * duty / 100 - T) / tau``.

Volume. Media and alt-media add liquid and dilute the culture; waste removes liquid at the
current concentration, but only down to the efflux tube (``min_volume_ml``). Above
``overflow_volume_ml`` liquid is lost, counted in ``overflowed_ml``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

LED_CHANNELS = ("A", "B", "C", "D")
MAX_STEP_SECONDS = 30.0
MAX_STEP_SECONDS_WHILE_PUMPING = 0.5
MAX_STEPS_PER_ADVANCE = 50_000  # a very long gap is integrated in longer steps instead
PUMPS = ("media", "alt_media", "waste")


@dataclass(frozen=True)
class VialParameters:
    """The physics of the vial (the ``[simulation]`` config keys of the same names)."""

    doubling_time_minutes: float = 75.0
    lag_hours: float = 1.0
    max_od: float = 4.0
    saturation_curvature: float = 2.0
    optimal_temperature: float = 37.0
    min_growth_temperature: float = 8.0
    max_growth_temperature: float = 45.0
    ambient_temperature: float = 22.0
    heater_max_delta_c: float = 18.0
    heater_time_constant_minutes: float = 4.0
    min_volume_ml: float = 14.0
    overflow_volume_ml: float = 20.0
    pump_ml_per_second: float = 1.0

    def __post_init__(self) -> None:
        if not self.min_growth_temperature < self.optimal_temperature < self.max_growth_temperature:
            raise ValueError(
                "growth temperatures must satisfy min_growth_temperature < optimal_temperature < "
                f"max_growth_temperature, got {self.min_growth_temperature}, {self.optimal_temperature}, "
                f"{self.max_growth_temperature}"
            )
        if self.optimal_temperature <= (self.min_growth_temperature + self.max_growth_temperature) / 2:
            raise ValueError(
                "optimal_temperature must be above the middle of the growth range (the cardinal temperature "
                f"model needs it), got {self.optimal_temperature} in "
                f"[{self.min_growth_temperature}, {self.max_growth_temperature}]"
            )
        for name in (
            "doubling_time_minutes",
            "max_od",
            "saturation_curvature",
            "heater_time_constant_minutes",
            "overflow_volume_ml",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.lag_hours < 0:
            raise ValueError(f"lag_hours must not be negative, got {self.lag_hours}")
        if not 0 <= self.min_volume_ml <= self.overflow_volume_ml:
            raise ValueError(
                f"min_volume_ml must be between 0 and overflow_volume_ml, got {self.min_volume_ml} "
                f"and {self.overflow_volume_ml}"
            )

    @property
    def optimal_growth_rate(self) -> float:
        """Maximum specific growth rate at the optimal temperature, per hour."""
        return math.log(2) / (self.doubling_time_minutes / 60.0)


def temperature_factor(temperature: float, params: VialParameters) -> float:
    """The cardinal temperature model with inflection: 0 outside the growth range, 1 at the optimum."""
    t_min, t_opt, t_max = (
        params.min_growth_temperature,
        params.optimal_temperature,
        params.max_growth_temperature,
    )
    if not t_min < temperature < t_max:
        return 0.0
    numerator = (temperature - t_max) * (temperature - t_min) ** 2
    denominator = (t_opt - t_min) * (
        (t_opt - t_min) * (temperature - t_opt) - (t_opt - t_max) * (t_opt + t_min - 2 * temperature)
    )
    return max(0.0, numerator / denominator)


def max_growth_rate(temperature: float, params: VialParameters) -> float:
    """mu_max(T), per hour: the growth rate of an adapted culture far below saturation."""
    return params.optimal_growth_rate * temperature_factor(temperature, params)


def _softplus(z: float) -> float:
    """ln(1 + e^z) without overflow."""
    return z + math.log1p(math.exp(-z)) if z > 0 else math.log1p(math.exp(z))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def initial_log_q(params: VialParameters) -> float:
    """ln q0 of Baranyi's model for a lag of ``lag_hours`` at the optimal temperature."""
    h0 = params.optimal_growth_rate * params.lag_hours
    if h0 <= 1e-12:
        return 50.0  # no lag: alpha is 1 for all practical purposes
    return -math.log(math.expm1(h0))


@dataclass(frozen=True)
class DoseResult:
    """What a dose actually did: added, removed (limited by the efflux tube) and lost over the top."""

    added_ml: float
    removed_ml: float
    overflowed_ml: float


@dataclass
class Vial:
    """One vial's true state at simulated time ``t`` (seconds since the epoch, on the kernel clock)."""

    params: VialParameters
    t: float
    od: float
    log_q: float  # Baranyi's physiological state, as ln q (q itself grows without bound)
    volume_ml: float
    alt_media_fraction: float
    temperature: float
    heater_duty_cycle: float = 0.0
    leds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(LED_CHANNELS, 0.0))
    pumps: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PUMPS, 0.0))
    # when a pump switched on for a set time stops (simulated time): the world keeps the
    # deadline, so a process held up by a busy machine cannot make it pump longer
    pump_until: dict[str, float] = field(default_factory=dict)
    created_at: float = 0.0
    advanced_seconds: float = 0.0
    overflowed_ml: float = 0.0
    media_added_ml: float = 0.0
    alt_media_added_ml: float = 0.0
    waste_removed_ml: float = 0.0

    @classmethod
    def new(
        cls,
        params: VialParameters,
        t: float,
        *,
        od: float = 0.05,
        temperature: float | None = None,
        volume_ml: float = 14.0,
        alt_media_fraction: float = 0.0,
    ) -> Vial:
        if od < 0:
            raise ValueError(f"the initial OD must not be negative, got {od}")
        if not 0.0 <= alt_media_fraction <= 1.0:
            raise ValueError(f"the alt-media fraction must be between 0 and 1, got {alt_media_fraction}")
        if not 0.0 <= volume_ml <= params.overflow_volume_ml:
            raise ValueError(
                f"the initial volume must be between 0 and overflow_volume_ml ({params.overflow_volume_ml}), "
                f"got {volume_ml}"
            )
        return cls(
            params=params,
            t=t,
            od=od,
            log_q=initial_log_q(params),
            volume_ml=volume_ml,
            alt_media_fraction=alt_media_fraction,
            temperature=params.ambient_temperature if temperature is None else temperature,
            created_at=t,
        )

    # -- observables ------------------------------------------------------------------------
    @property
    def lag_adjustment(self) -> float:
        """Baranyi's alpha, 0 (deep lag) to 1 (adapted)."""
        return _sigmoid(self.log_q)

    def true_growth_rate(self) -> float:
        """The instantaneous specific growth rate d ln(OD)/dt, per hour (dilution not included)."""
        p = self.params
        saturation = max(0.0, 1.0 - (self.od / p.max_od) ** p.saturation_curvature)
        return max_growth_rate(self.temperature, p) * self.lag_adjustment * saturation

    def heater_equilibrium(self, duty_cycle: float | None = None) -> float:
        duty = self.heater_duty_cycle if duty_cycle is None else duty_cycle
        return self.params.ambient_temperature + self.params.heater_max_delta_c * duty / 100.0

    # -- dynamics ---------------------------------------------------------------------------
    def advance_to(self, t: float, *, heater_stuck_on: bool = False, heater_disconnected: bool = False) -> None:
        """Integrate from ``self.t`` to ``t``, switching timed pumps off at their deadlines; a
        ``t`` in the past changes nothing."""
        while self.pump_until:
            first = min(self.pump_until.values())
            if first > t:
                break
            self._advance_to(first, heater_stuck_on, heater_disconnected)
            for pump, until in list(self.pump_until.items()):
                if until <= first:
                    self.pumps[pump] = 0.0
                    del self.pump_until[pump]
        self._advance_to(t, heater_stuck_on, heater_disconnected)

    def _advance_to(self, t: float, heater_stuck_on: bool, heater_disconnected: bool) -> None:
        span = t - self.t
        if span <= 0:
            return
        pumping = any(rate > 0 for rate in self.pumps.values())
        step = MAX_STEP_SECONDS_WHILE_PUMPING if pumping else MAX_STEP_SECONDS
        step = max(step, span / MAX_STEPS_PER_ADVANCE)
        duty = 100.0 if heater_stuck_on else 0.0 if heater_disconnected else self.heater_duty_cycle
        done = 0.0
        while done < span:
            h = min(step, span - done)
            self._step(h, duty)
            if pumping:
                self._pump_for(h)
            done += h
        self.t = t
        self.advanced_seconds += span

    def _step(self, seconds: float, duty: float) -> None:
        p = self.params
        # heat: exact first-order response, and its mean over the step for the growth rate
        target = self.heater_equilibrium(duty)
        tau = p.heater_time_constant_minutes * 60.0
        decay = math.exp(-seconds / tau)
        t0 = self.temperature
        self.temperature = target + (t0 - target) * decay
        mean_temperature = target + (t0 - target) * tau / seconds * (1.0 - decay)
        mu = max_growth_rate(mean_temperature, p)  # per hour
        if mu <= 0.0:
            return
        # lag: ln q grows linearly; the integral of mu*alpha over the step is a softplus difference
        log_q0 = self.log_q
        self.log_q = log_q0 + mu * seconds / 3600.0
        adapted_growth = _softplus(self.log_q) - _softplus(log_q0)
        # generalised logistic growth with that much "adapted growth": y = (OD/K)^m is logistic
        k, m, x0 = p.max_od, p.saturation_curvature, self.od
        if x0 <= 0.0 or x0 >= k:
            return
        y0 = (x0 / k) ** m
        y1 = 1.0 / (1.0 + (1.0 / y0 - 1.0) * math.exp(-m * adapted_growth))
        self.od = k * y1 ** (1.0 / m)

    def _pump_for(self, seconds: float) -> None:
        rate = self.params.pump_ml_per_second * seconds / 100.0
        self.dose(
            media_ml=self.pumps["media"] * rate,
            alt_media_ml=self.pumps["alt_media"] * rate,
            waste_ml=self.pumps["waste"] * rate,
        )

    # -- actuators --------------------------------------------------------------------------
    def dose(self, media_ml: float = 0.0, alt_media_ml: float = 0.0, waste_ml: float = 0.0) -> DoseResult:
        """Add media and alt-media (mixing at once), then pump out waste down to the efflux tube."""
        for name, value in (("media_ml", media_ml), ("alt_media_ml", alt_media_ml), ("waste_ml", waste_ml)):
            if value < 0 or math.isnan(value):
                raise ValueError(f"{name} must not be negative, got {value}")
        added = media_ml + alt_media_ml
        overflowed = 0.0
        if added > 0:
            new_volume = self.volume_ml + added
            self.od *= self.volume_ml / new_volume
            self.alt_media_fraction = (self.alt_media_fraction * self.volume_ml + alt_media_ml) / new_volume
            self.volume_ml = new_volume
            self.media_added_ml += media_ml
            self.alt_media_added_ml += alt_media_ml
            overflowed = max(0.0, self.volume_ml - self.params.overflow_volume_ml)
            if overflowed > 0:  # spilled over the top, at the mixed concentration
                self.volume_ml = self.params.overflow_volume_ml
                self.overflowed_ml += overflowed
        removed = min(waste_ml, max(0.0, self.volume_ml - self.params.min_volume_ml))
        self.volume_ml -= removed
        self.waste_removed_ml += removed
        return DoseResult(added_ml=added, removed_ml=removed, overflowed_ml=overflowed)

    def set_heater_duty_cycle(self, duty_cycle: float) -> None:
        self.heater_duty_cycle = _percent("heater duty cycle", duty_cycle)

    def set_led(self, channel: str, percent: float) -> None:
        if channel not in LED_CHANNELS:
            raise ValueError(f"unknown LED channel {channel!r} (known: {', '.join(LED_CHANNELS)})")
        self.leds[channel] = _percent(f"LED {channel} intensity", percent)

    def set_pump_duty_cycle(self, pump: str, duty_cycle: float, seconds: float | None = None) -> None:
        """Set a pump; with ``seconds``, it stops by itself that many simulated seconds later."""
        if pump not in PUMPS:
            raise ValueError(f"unknown pump {pump!r} (known: {', '.join(PUMPS)})")
        self.pumps[pump] = _percent(f"{pump} pump duty cycle", duty_cycle)
        if seconds is not None and duty_cycle > 0:
            if not seconds >= 0:
                raise ValueError(f"a pump's run time must not be negative, got {seconds}")
            self.pump_until[pump] = self.t + seconds
        else:
            self.pump_until.pop(pump, None)

    # -- storage ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The state without ``params`` (they come from config, not from storage). Numbers and
        flat dicts of numbers: copied shallowly (``asdict`` deep-copies, parameters too, at
        every step of the world)."""
        return {
            f.name: dict(value) if isinstance(value := getattr(self, f.name), dict) else value
            for f in fields(self)
            if f.name != "params"
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any], params: VialParameters) -> Vial:
        known = {f.name for f in fields(cls)} - {"params"}
        vial = cls(params=params, **{k: v for k, v in state.items() if k in known})
        vial.leds = {**dict.fromkeys(LED_CHANNELS, 0.0), **vial.leds}
        vial.pumps = {**dict.fromkeys(PUMPS, 0.0), **vial.pumps}
        vial.pump_until = dict(vial.pump_until)
        return vial

    def copy(self) -> Vial:
        return replace(self, leds=dict(self.leds), pumps=dict(self.pumps), pump_until=dict(self.pump_until))


def _percent(what: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 100.0:  # NaN fails too
        raise ValueError(f"{what} must be between 0 and 100, got {value}")
    return value

"""An extended Kalman filter of a culture's normalised optical density (nOD) and growth rate.

The filter's state is ``[ln nOD, r, a]``: the log of the normalised OD, the specific growth
rate ``r = d ln(nOD)/dt`` (per hour) and its rate of change ``a`` (per hour²). Keeping the OD in
log space makes the dynamics linear (``ln nOD`` grows by ``r·Δt + a·Δt²/2``), makes the
published ``od_filtered = exp(ln nOD)`` positive whatever the data (no clamp needed) and makes a
reading three times too high and one five times too low equally suspicious.

Observations are taken in log space too: a scatter angle (45°, 90°, 135°) observes
``ln y = ln nOD``; the 180° (transmission) photodiode sees less light as the culture thickens and
observes ``ln y = 1 - nOD``. A reading ``y ≤ 0`` has no logarithm: it counts as an outlier below
the estimate (or is skipped while outlier handling is off).

Noise, all from config (``[growth_rate_kalman]``):

* process noise over a step of ``Δt`` hours: ``diag(od_std², rate_std², acc_std²)·Δt``: random
  walks, so each std is how far that quantity may wander in an hour, whatever the interval
  between readings (``od_std`` is relative, being in log space);
* observation noise of channel ``c``: ``obs_std² · v_c`` in log units, where ``v_c`` is the
  channel's variance relative to its squared mean during the initial statistics. A photodiode's
  noise is a constant share of its signal, so it is constant in log space: at high OD a reading
  is neither more nor less trustworthy than at the start (a variance that shrank with the OD made
  ~40 % of readings at nOD 48 outliers, which never moved the rate).

Outliers (Huber-style): a channel whose innovation exceeds ``outlier_std_threshold`` standard
deviations has its innovation clipped to that bound, the nOD variance doubled (a run of outliers
is a real level shift, and doubling lets the filter accept it after a few readings) and only the
nOD moved, never the growth rate or acceleration.

After a dosing event (other than removing waste) the nOD variance is multiplied by
``dosing_variance_factor`` and held at least that high for ``dosing_window_hours`` of data time
from the event (how long a dose lasts) and for the first reading after: meanwhile readings move
only the nOD (the dilution is not growth) and outlier handling is off.

Everything here is pure and deterministic: no clock, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pioreactor.plugins_core.growth_rate import linalg
from pioreactor.plugins_core.growth_rate.linalg import Matrix

SCATTER_ANGLES = frozenset({"45", "90", "135"})
TRANSMISSION_ANGLE = "180"
VALID_ANGLES = SCATTER_ANGLES | {TRANSMISSION_ANGLE}

#: the smallest relative variance a channel may claim: a perfectly flat signal (a simulator
#: without noise) would otherwise make every later wobble an outlier
MIN_RELATIVE_VARIANCE = 1e-8

#: covariance of ``[ln nOD, r, a]`` when the filter starts: ±1 % on the OD, ±0.1 h⁻¹ on the rate
#: (a start from 0 h⁻¹ converges in minutes, not hours) and ±0.003 h⁻² on the acceleration
DEFAULT_INITIAL_COVARIANCE: tuple[tuple[float, ...], ...] = (
    (1e-4, 0.0, 0.0),
    (0.0, 1e-2, 0.0),
    (0.0, 0.0, 1e-5),
)


@dataclass(frozen=True)
class FilterSettings:
    """The filter's tuning; the job fills it from ``[growth_rate_kalman]`` and
    ``[growth_rate_calculating.config]``."""

    od_std: float = 0.0025
    rate_std: float = 0.02
    acc_std: float = 0.02
    obs_std: float = 1.5
    outlier_std_threshold: float = 3.0
    dosing_variance_factor: float = 2500.0
    dosing_window_hours: float = 0.40 / 60

    def __post_init__(self) -> None:
        for name in ("od_std", "rate_std", "acc_std"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a number ≥ 0, got {value!r}")
        if not (math.isfinite(self.obs_std) and self.obs_std > 0):
            raise ValueError(f"obs_std must be a number > 0, got {self.obs_std!r}")
        if not self.outlier_std_threshold > 2.0:  # also refuses NaN
            raise ValueError(
                f"ekf_outlier_std_threshold must be above 2.0, got {self.outlier_std_threshold!r}: "
                "lower values reject ordinary noise as outliers. Use 3.0 or more, or a very large "
                "value (e.g. 1000) to turn outlier rejection off."
            )
        if not (math.isfinite(self.dosing_variance_factor) and self.dosing_variance_factor >= 1):
            raise ValueError(
                f"ekf_variance_shift_post_dosing_factor must be ≥ 1, got {self.dosing_variance_factor!r}"
            )
        if not (math.isfinite(self.dosing_window_hours) and self.dosing_window_hours >= 0):
            raise ValueError(
                f"ekf_variance_shift_post_dosing_minutes must be ≥ 0, got {self.dosing_window_hours * 60!r}"
            )


@dataclass(frozen=True)
class FilterOutput:
    """The estimate after one update, in the units the job publishes."""

    od_filtered: float
    growth_rate: float
    acceleration: float
    #: covariance of ``[nOD, growth rate, acceleration]`` (converted from log space)
    covariance: Matrix
    #: channels whose reading was treated as an outlier in this update
    outliers: tuple[str, ...] = field(default=())

    @property
    def state(self) -> list[float]:
        return [self.od_filtered, self.growth_rate, self.acceleration]


def od_implied_by(reading: float, angle: str) -> float | None:
    """The nOD a single normalised reading implies (None if it implies nothing sensible)."""
    if reading <= 0 or not math.isfinite(reading):
        return None
    if angle == TRANSMISSION_ANGLE:
        od = 1.0 - math.log(reading)
        return od if od > 0 else None
    return reading


def initial_od_from(readings: Mapping[str, float], angles: Mapping[str, str]) -> float | None:
    """The mean nOD that a set of normalised readings implies, to start a filter from."""
    implied = [
        od_implied_by(value, angles[channel]) for channel, value in readings.items() if channel in angles
    ]
    usable = [od for od in implied if od is not None]
    return sum(usable) / len(usable) if usable else None


class GrowthRateFilter:
    """Tracks ``[nOD, growth rate, acceleration]`` from normalised OD readings.

    :param angles: the angle (``"45"``, ``"90"``, ``"135"`` or ``"180"``) of each channel.
    :param relative_variances: each channel's variance over its squared (blank-corrected) mean,
        from the initial statistics.
    :param initial_od: the nOD to start from (> 0).
    :param initial_growth_rate: the growth rate to start from, per hour.
    """

    def __init__(
        self,
        *,
        angles: Mapping[str, str],
        relative_variances: Mapping[str, float],
        initial_od: float,
        initial_growth_rate: float = 0.0,
        initial_acceleration: float = 0.0,
        initial_covariance: Sequence[Sequence[float]] | None = None,
        settings: FilterSettings | None = None,
    ) -> None:
        if not angles:
            raise ValueError("the filter needs at least one channel")
        for channel, angle in angles.items():
            if angle not in VALID_ANGLES:
                raise ValueError(f"channel {channel}: angle {angle!r} is not one of {sorted(VALID_ANGLES)}")
            if channel not in relative_variances:
                raise ValueError(f"channel {channel} has no variance")
            variance = relative_variances[channel]
            if not (math.isfinite(variance) and variance >= 0):
                raise ValueError(f"channel {channel}: variance must be a number ≥ 0, got {variance!r}")
        if not (math.isfinite(initial_od) and initial_od > 0):
            raise ValueError(f"initial_od must be a positive number, got {initial_od!r}")
        for name, value in (
            ("initial_growth_rate", initial_growth_rate),
            ("initial_acceleration", initial_acceleration),
        ):
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        self.settings = settings or FilterSettings()
        self.angles = dict(angles)
        self.relative_variances = {
            c: max(float(v), MIN_RELATIVE_VARIANCE) for c, v in relative_variances.items()
        }
        self.x: list[float] = [math.log(initial_od), float(initial_growth_rate), float(initial_acceleration)]
        self.P: Matrix = linalg.copy(initial_covariance or DEFAULT_INITIAL_COVARIANCE)
        if len(self.P) != 3 or any(len(row) != 3 for row in self.P) or not linalg.is_finite(self.P):
            raise ValueError("initial_covariance must be a finite 3x3 matrix")
        self.hours = 0.0  # data time since the filter started
        self._dose_pending = False
        self._dosing_window_end: float | None = None
        self._dosing_od_variance = 0.0

    # -- what it knows -----------------------------------------------------------------------
    @property
    def od_filtered(self) -> float:
        return math.exp(self.x[0])

    @property
    def growth_rate(self) -> float:
        return self.x[1]

    @property
    def acceleration(self) -> float:
        return self.x[2]

    @property
    def in_dosing_window(self) -> bool:
        return self._dose_pending

    def output(self, outliers: Sequence[str] = ()) -> FilterOutput:
        od = self.od_filtered
        jacobian = (od, 1.0, 1.0)  # d(nOD)/d(ln nOD) = nOD
        covariance = [[jacobian[i] * jacobian[j] * self.P[i][j] for j in range(3)] for i in range(3)]
        return FilterOutput(od, self.x[1], self.x[2], covariance, tuple(outliers))

    # -- events ------------------------------------------------------------------------------
    def note_dosing_event(self, hours_after_last_reading: float = 0.0) -> None:
        """Liquid went in (``hours_after_last_reading`` after the last reading): the OD jumps by an
        unknown amount that is not growth, for as long as the dose lasts (``dosing_window_hours``).
        Readings until then, and the first one after, move only the OD: a reading taken while a
        slow pump still runs sees part of the dilution, the next one the rest."""
        # forget the correlations (a dilution says nothing about the rate), inflate the OD's variance
        self.P = linalg.diagonal(
            [self.P[0][0] * self.settings.dosing_variance_factor, self.P[1][1], self.P[2][2]]
        )
        self._dosing_od_variance = self.P[0][0]
        self._dose_pending = True  # until the first reading after the window
        self._dosing_window_end = self.hours + max(0.0, hours_after_last_reading) + self.settings.dosing_window_hours

    # -- the filter --------------------------------------------------------------------------
    def predict(self, dt: float) -> None:
        """Move the state ``dt`` hours forward."""
        if not (math.isfinite(dt) and dt >= 0):
            raise ValueError(f"time step must be a number of hours ≥ 0, got {dt!r}")
        if dt == 0:
            return
        s = self.settings
        F = [[1.0, dt, 0.5 * dt * dt], [0.0, 1.0, dt], [0.0, 0.0, 1.0]]
        # random walks: each variance grows in proportion to the time, whatever the reading interval
        Q = linalg.diagonal([s.od_std**2 * dt, s.rate_std**2 * dt, s.acc_std**2 * dt])
        self.x = linalg.matvec(F, self.x)
        self.P = linalg.symmetrize(
            linalg.add(linalg.matmul(linalg.matmul(F, self.P), linalg.transpose(F)), Q)
        )
        self.hours += dt

    def update(self, readings: Mapping[str, float], dt: float) -> FilterOutput:
        """Advance ``dt`` hours, then take in one set of normalised readings (channel → nOD units).

        Raises ValueError for an unknown channel, a non-finite reading or a bad ``dt``; the
        filter is unchanged then.
        """
        for channel, value in readings.items():
            if channel not in self.angles:
                raise ValueError(f"channel {channel} is not one this filter tracks ({sorted(self.angles)})")
            if not math.isfinite(value):
                raise ValueError(f"channel {channel}: reading {value!r} is not a finite number")
        self.predict(dt)
        in_window = self._dose_pending
        if in_window:
            self.P[0][0] = max(self.P[0][0], self._dosing_od_variance)
            if self._dosing_window_end is None or self.hours > self._dosing_window_end:
                self._dose_pending = False  # this is the first reading after the dose
                self._dosing_window_end = None
        outliers = [
            channel
            for channel in sorted(readings)
            if self._update_one(channel, readings[channel], reject_outliers=not in_window, od_only=in_window)
        ]
        if not (linalg.is_finite([self.x]) and linalg.is_finite(self.P)):  # pragma: no cover - defensive
            raise FloatingPointError("the growth-rate filter's state is no longer finite")
        return self.output(outliers)

    def _update_one(self, channel: str, reading: float, *, reject_outliers: bool, od_only: bool) -> bool:
        """A scalar update with one channel's reading; True if it was treated as an outlier."""
        s = self.settings
        od = math.exp(self.x[0])
        if self.angles[channel] == TRANSMISSION_ANGLE:
            predicted = 1.0 - od  # ln of the expected reading exp(-(nOD - 1))
            slope = -od
        else:
            predicted = self.x[0]
            slope = 1.0
        # the photodiodes' noise is relative (a constant share of the signal), so constant in log
        # space: the relative variance of the initial statistics, scaled by obs_std²
        R = s.obs_std**2 * self.relative_variances[channel]
        H = [slope, 0.0, 0.0]
        S = slope * slope * self.P[0][0] + R
        bound = s.outlier_std_threshold * math.sqrt(S)

        if reading > 0:
            innovation = math.log(reading) - predicted
        elif reject_outliers:
            innovation = -math.inf  # no logarithm: far below anything the filter expects
        else:
            return False  # nothing to learn from it while the OD is allowed to jump

        outlier = reject_outliers and abs(innovation) > bound
        if outlier:
            innovation = math.copysign(bound, innovation)
            self.P[0][0] *= 2.0
            S = slope * slope * self.P[0][0] + R
            od_only = True
        if od_only:
            K = [self.P[0][0] * slope / S, 0.0, 0.0]
        else:
            K = [self.P[i][0] * slope / S for i in range(3)]
        self.x = [xi + ki * innovation for xi, ki in zip(self.x, K, strict=True)]
        # Joseph form: stays symmetric positive semi-definite for any gain, optimal or not
        A = linalg.add(linalg.identity(), [[-v for v in row] for row in linalg.outer(K, H)])
        P = linalg.matmul(linalg.matmul(A, self.P), linalg.transpose(A))
        self.P = linalg.symmetrize(linalg.add(P, [[v * R for v in row] for row in linalg.outer(K, K)]))
        return outlier

"""What the simulated sensors read, given the vial's true state: pure functions, noise from an rng.

Photodiodes (volts on the ADC), per angle, with the IR LED at ``ir`` percent:

* ``REF`` looks at the IR LED directly: ``gain_ref * ir``, whatever the culture.
* ``45``, ``90``, ``135`` see light scattered by the cells: ``gain * ir * OD / (1 + OD / s)``,
  linear at low OD and sub-linear as the culture thickens (``s = scatter_saturation_od``).
* ``180`` sees the light that gets through: ``gain_180 * ir * exp(-extinction_per_od * OD)``.

Every photodiode also reads a dark offset (~2 mV) and a little of the other LEDs' light (white
light for a photobioreactor), which is why an OD reader switches them off while it reads. On top
come Gaussian noise (relative and absolute), rare outliers, and mains ripple: a sinusoid at
``mains_hz`` in *real* time (``time.monotonic()``), which a reader averaging over whole mains
periods cancels. The ADC clips to 0-3.3 V.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

ANGLES = ("REF", "45", "90", "135", "180")
SCATTER_ANGLES = ("45", "90", "135")


@dataclass(frozen=True)
class Optics:
    gain_45: float = 0.020  # volts per % of IR per OD unit, at low OD
    gain_90: float = 0.014
    gain_135: float = 0.010
    scatter_saturation_od: float = 6.0
    gain_180: float = 0.030  # volts per % of IR through a clear vial
    extinction_per_od: float = 2.0
    gain_ref: float = 0.002  # volts per % of IR
    other_light_gain: float = 0.0005  # volts per % of each non-IR LED
    dark_offset: float = 0.002
    noise_floor: float = 0.0003  # volts, absolute
    relative_noise: float = 0.01
    outlier_probability: float = 0.005
    outlier_size: float = 0.3
    mains_hz: float = 50.0
    mains_ripple: float = 0.03  # amplitude, relative to the signal
    full_scale: float = 3.3

    def scatter_gain(self, angle: str) -> float:
        return {"45": self.gain_45, "90": self.gain_90, "135": self.gain_135}[angle]


DEFAULT_OPTICS = Optics()


def check_angle(angle: str) -> str:
    if angle not in ANGLES:
        raise ValueError(f"unknown photodiode angle {angle!r} (known: {', '.join(ANGLES)})")
    return angle


def photodiode_signal(
    angle: str,
    od: float,
    ir_percent: float,
    other_light_percent: float = 0.0,
    optics: Optics = DEFAULT_OPTICS,
) -> float:
    """Noise-free volts at a photodiode (before the ADC's clipping)."""
    check_angle(angle)
    od = max(0.0, od)
    if angle == "REF":
        light = optics.gain_ref * ir_percent
    elif angle == "180":
        light = optics.gain_180 * ir_percent * math.exp(-optics.extinction_per_od * od)
    else:
        light = optics.scatter_gain(angle) * ir_percent * od / (1.0 + od / optics.scatter_saturation_od)
    return optics.dark_offset + light + optics.other_light_gain * other_light_percent


def optical_growth_rate(angle: str, od: float, growth_rate: float, optics: Optics = DEFAULT_OPTICS) -> float:
    """The growth rate the photodiode at ``angle`` shows (d ln(signal above its dark offset)/dt,
    per hour) when the biomass grows at ``growth_rate``: the same at low OD, less as the 90°
    signal saturates (``growth_rate / (1 + OD / s)``), negative for the 180° one (less light
    gets through)."""
    check_angle(angle)
    od = max(0.0, od)
    if angle == "REF":
        return 0.0
    if angle == "180":
        return -optics.extinction_per_od * od * growth_rate
    return growth_rate / (1.0 + od / optics.scatter_saturation_od)


def mains_ripple(signal: float, real_time: float, optics: Optics = DEFAULT_OPTICS) -> float:
    """The ripple added to ``signal`` at ``real_time`` (seconds of ``time.monotonic()``)."""
    return signal * optics.mains_ripple * math.sin(2.0 * math.pi * optics.mains_hz * real_time)


def adc_clip(volts: float, optics: Optics = DEFAULT_OPTICS) -> float:
    return min(max(volts, 0.0), optics.full_scale)


def read_photodiode(
    signal: float, rng: random.Random, real_time: float, optics: Optics = DEFAULT_OPTICS
) -> float:
    """One noisy ADC reading of a photodiode whose true signal is ``signal`` volts."""
    volts = signal * (1.0 + rng.gauss(0.0, optics.relative_noise)) + rng.gauss(0.0, optics.noise_floor)
    volts += mains_ripple(signal, real_time, optics)
    if rng.random() < optics.outlier_probability:
        volts *= 1.0 + rng.choice((-1.0, 1.0)) * optics.outlier_size
    return adc_clip(volts, optics)


def read_unconnected(rng: random.Random, optics: Optics = DEFAULT_OPTICS) -> float:
    """An ADC channel with nothing (or a broken wire) on it: noise around 0 V."""
    return adc_clip(abs(rng.gauss(0.0, optics.noise_floor)), optics)


def read_thermometer(temperature: float, rng: random.Random, noise_c: float = 0.05) -> float:
    return temperature + rng.gauss(0.0, noise_c)


def garbage_celsius(rng: random.Random) -> float:
    """What a failing temperature sensor returns: NaN now and then, otherwise anything."""
    return math.nan if rng.random() < 0.2 else rng.uniform(-50.0, 150.0)

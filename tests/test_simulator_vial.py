"""The living vial's model, driven with explicit times (no clock, no storage)."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest
from pioreactor.plugins_core.simulator.sensors import (
    Optics,
    mains_ripple,
    photodiode_signal,
    read_photodiode,
    read_unconnected,
)
from pioreactor.plugins_core.simulator.vial import Vial, VialParameters, max_growth_rate

HOUR = 3600.0
PARAMS = VialParameters()
MU_OPT = math.log(2) / (PARAMS.doubling_time_minutes / 60)


def held_at(temperature: float, params: VialParameters = PARAMS, **initial: float) -> Vial:
    """A vial whose heater keeps it at ``temperature`` (its equilibrium)."""
    vial = Vial.new(params, 0.0, temperature=temperature, **initial)
    duty = (temperature - params.ambient_temperature) / params.heater_max_delta_c * 100
    vial.set_heater_duty_cycle(duty)
    return vial


def growth_over(vial: Vial, start_hours: float, end_hours: float) -> float:
    """Mean d ln(OD)/dt between two times, per hour."""
    vial.advance_to(start_hours * HOUR)
    od0 = vial.od
    vial.advance_to(end_hours * HOUR)
    return math.log(vial.od / od0) / (end_hours - start_hours)


# -- growth ----------------------------------------------------------------------------------
def test_exponential_phase_grows_at_ln2_over_the_doubling_time_at_the_optimum() -> None:
    vial = held_at(37.0, replace(PARAMS, lag_hours=0.0))
    assert growth_over(vial, 0.0, 2.0) == pytest.approx(MU_OPT, rel=0.01)
    assert vial.true_growth_rate() == pytest.approx(MU_OPT, rel=0.01)
    # with the default lag the culture gets there too, once adapted and still far from saturation
    vial = held_at(37.0)
    assert growth_over(vial, 5.0, 6.0) == pytest.approx(MU_OPT, rel=0.08)


def test_growth_is_slower_away_from_the_optimum_and_stops_outside_the_range() -> None:
    no_lag = replace(PARAMS, lag_hours=0.0)
    rates = {t: growth_over(held_at(t, no_lag), 0.0, 2.0) for t in (25.0, 30.0, 37.0)}
    assert rates[25.0] < rates[30.0] < rates[37.0]
    assert rates[25.0] < 0.7 * rates[37.0]
    assert max_growth_rate(PARAMS.max_growth_temperature + 1, PARAMS) == 0.0
    assert max_growth_rate(PARAMS.min_growth_temperature, PARAMS) == 0.0
    assert max_growth_rate(39.0, PARAMS) < MU_OPT  # too warm is slower too
    cold = Vial.new(replace(no_lag, ambient_temperature=5.0), 0.0, od=0.1)  # a cold room, no heating
    cold.advance_to(5 * HOUR)
    assert cold.od == pytest.approx(0.1)


def test_lag_phase_then_growth_with_baranyis_tangent_at_the_lag_time() -> None:
    unbounded = replace(PARAMS, max_od=1e6)
    vial = held_at(37.0, unbounded)
    assert vial.true_growth_rate() < 0.7 * MU_OPT  # slow at first...
    early = growth_over(vial, 0.0, 0.25)
    late = growth_over(vial, 6.0, 6.5)
    assert early < 0.7 * late  # ...then faster
    # the exponential phase extrapolated back meets the initial OD at the lag time
    vial.advance_to(10 * HOUR)
    lag = 10.0 - math.log(vial.od / 0.05) / MU_OPT
    assert lag == pytest.approx(PARAMS.lag_hours, rel=0.02)


def test_growth_saturates_below_the_carrying_capacity() -> None:
    vial = held_at(37.0)
    vial.advance_to(48 * HOUR)
    assert 0.97 * PARAMS.max_od < vial.od < PARAMS.max_od
    assert vial.true_growth_rate() < 0.01
    vial.advance_to(96 * HOUR)
    assert vial.od < PARAMS.max_od


def test_sub_steps_do_not_change_the_trajectory() -> None:
    one_go, many = held_at(37.0), held_at(37.0)
    one_go.advance_to(7 * HOUR)
    for k in range(1, 7 * 3600 // 7 + 1):  # 7-second touches: sub-steps fall elsewhere
        many.advance_to(k * 7.0)
    assert many.od == pytest.approx(one_go.od, rel=1e-6)
    assert many.advanced_seconds == pytest.approx(7 * HOUR)


# -- liquid ----------------------------------------------------------------------------------
def test_media_dilutes_alt_media_is_tracked_and_waste_stops_at_the_efflux_tube() -> None:
    vial = Vial.new(PARAMS, 0.0, od=1.0, volume_ml=14.0)
    result = vial.dose(media_ml=1.0)
    assert result.added_ml == 1.0 and result.removed_ml == 0.0
    assert vial.volume_ml == pytest.approx(15.0)
    assert vial.od == pytest.approx(14 / 15)
    vial.dose(alt_media_ml=1.0)
    assert vial.alt_media_fraction == pytest.approx(1 / 16)
    assert vial.od == pytest.approx(14 / 16)
    result = vial.dose(waste_ml=5.0)  # only 2 ml are above the tube
    assert result.removed_ml == pytest.approx(2.0)
    assert vial.volume_ml == pytest.approx(PARAMS.min_volume_ml)
    assert vial.od == pytest.approx(14 / 16)  # removing liquid keeps the concentration
    assert vial.alt_media_fraction == pytest.approx(1 / 16)
    vial.dose(media_ml=1.0, waste_ml=1.0)  # exchange: in, mix, out
    assert vial.volume_ml == pytest.approx(14.0)
    assert vial.od == pytest.approx(14 / 16 * 14 / 15)
    assert vial.overflowed_ml == 0.0
    with pytest.raises(ValueError, match="-1"):
        vial.dose(media_ml=-1)


def test_the_vial_only_overflows_when_forced() -> None:
    vial = Vial.new(PARAMS, 0.0, od=1.0)
    for _ in range(100):  # a normal exchange cycle never spills
        vial.dose(media_ml=1.0)
        vial.dose(waste_ml=2.0)
        assert vial.volume_ml <= PARAMS.overflow_volume_ml
    assert vial.overflowed_ml == 0.0
    od = vial.od
    result = vial.dose(media_ml=10.0)
    assert vial.volume_ml == PARAMS.overflow_volume_ml
    assert result.overflowed_ml == pytest.approx(4.0) and vial.overflowed_ml == pytest.approx(4.0)
    assert vial.od == pytest.approx(od * 14 / 24)  # what stays is the mixed culture


def test_dilution_faster_than_growth_washes_the_culture_out() -> None:
    def chemostat(temperature: float) -> list[float]:
        vial = held_at(temperature, replace(PARAMS, lag_hours=0.0), od=0.5)
        ods = []
        for k in range(1, 6 * 48 + 1):  # 48 h of 1 ml exchanges every 10 minutes: D = 0.41 / h
            vial.advance_to(k * 600.0)
            vial.dose(media_ml=1.0, waste_ml=1.0)
            ods.append(vial.od)
        return ods

    dilution_rate = math.log(15 / 14) * 6
    warm = chemostat(37.0)  # mu 0.55 > D: a steady state where growth matches dilution
    expected = PARAMS.max_od * math.sqrt(1 - dilution_rate / MU_OPT)
    assert warm[-1] == pytest.approx(expected, rel=0.05)
    cold = chemostat(25.0)  # mu 0.28 < D: washout
    assert cold[-1] < 0.01 and cold == sorted(cold, reverse=True)


def test_running_pumps_move_liquid_over_time() -> None:
    vial = Vial.new(PARAMS, 0.0, od=1.0)
    vial.set_pump_duty_cycle("media", 50.0)
    vial.advance_to(4.0)  # 4 s at 0.5 ml/s
    vial.set_pump_duty_cycle("media", 0.0)
    assert vial.volume_ml == pytest.approx(16.0)
    assert vial.od == pytest.approx(14 / 16, rel=0.01)
    vial.set_pump_duty_cycle("waste", 100.0)
    vial.advance_to(60.0)
    assert vial.volume_ml == pytest.approx(14.0) and vial.waste_removed_ml == pytest.approx(2.0)
    with pytest.raises(ValueError, match="'air'"):
        vial.set_pump_duty_cycle("air", 10)


# -- heat ------------------------------------------------------------------------------------
def test_the_heater_approaches_its_equilibrium_with_a_time_constant_of_minutes() -> None:
    vial = Vial.new(PARAMS, 0.0)
    assert vial.temperature == PARAMS.ambient_temperature
    vial.set_heater_duty_cycle(100.0)
    tau = PARAMS.heater_time_constant_minutes * 60
    vial.advance_to(tau)
    assert vial.temperature == pytest.approx(22.0 + 18.0 * (1 - math.exp(-1)), abs=0.01)
    vial.advance_to(30 * 60)
    assert vial.temperature == pytest.approx(40.0, abs=0.05)
    vial.set_heater_duty_cycle(50.0)
    vial.advance_to(90 * 60)
    assert vial.temperature == pytest.approx(31.0, abs=0.05)
    vial.set_heater_duty_cycle(0.0)
    vial.advance_to(150 * 60)
    assert vial.temperature == pytest.approx(22.0, abs=0.05)
    with pytest.raises(ValueError, match="120"):
        vial.set_heater_duty_cycle(120)


def test_a_stuck_heater_heats_whatever_its_duty_cycle() -> None:
    vial = Vial.new(PARAMS, 0.0)
    vial.advance_to(30 * 60, heater_stuck_on=True)
    assert vial.temperature == pytest.approx(40.0, abs=0.05)
    assert vial.heater_duty_cycle == 0.0


def test_state_round_trips_through_a_dict() -> None:
    vial = held_at(30.0)
    vial.set_led("B", 20)
    vial.advance_to(HOUR)
    again = Vial.from_dict(vial.to_dict(), PARAMS)
    assert again == vial
    again.advance_to(2 * HOUR)
    vial.advance_to(2 * HOUR)
    assert again == vial


# -- optics ----------------------------------------------------------------------------------
def test_signal_levels_at_a_typical_start() -> None:
    assert 0.02 <= photodiode_signal("90", 0.05, 50.0) <= 0.05
    assert photodiode_signal("REF", 0.05, 50.0) == pytest.approx(0.1, rel=0.05)
    assert photodiode_signal("90", 0.05, 0.0) == pytest.approx(0.002)  # IR off: the dark offset


def test_ref_follows_the_ir_led_and_ignores_the_culture() -> None:
    offset = Optics().dark_offset
    for od in (0.0, 0.5, 3.0):
        assert photodiode_signal("REF", od, 40.0) == photodiode_signal("REF", 0.05, 40.0)
    ratio = (photodiode_signal("REF", 1.0, 80.0) - offset) / (photodiode_signal("REF", 1.0, 40.0) - offset)
    assert ratio == pytest.approx(2.0)


def test_scatter_rises_sub_linearly_with_od_and_transmission_falls() -> None:
    ods = [0.0, 0.05, 0.1, 0.5, 1.0, 2.0, 4.0]
    for angle in ("45", "90", "135"):
        volts = [photodiode_signal(angle, od, 50.0) for od in ods]
        assert volts == sorted(volts) and len(set(volts)) == len(volts)
        v1, v2, v4 = (photodiode_signal(angle, od, 50.0) - Optics().dark_offset for od in (1.0, 2.0, 4.0))
        assert v2 / v1 < 2 and v4 / v2 < v2 / v1  # sub-linear, bending over more at high OD
    transmitted = [photodiode_signal("180", od, 50.0) for od in ods]
    assert transmitted == sorted(transmitted, reverse=True)
    assert photodiode_signal("90", 1.0, 80.0) > photodiode_signal("90", 1.0, 40.0)


def test_the_adc_saturates_at_3_3_volts() -> None:
    rng = random.Random(1)
    signal = photodiode_signal("45", 4.0, 100.0)
    assert signal > 3.3
    no_outliers = Optics(outlier_probability=0.0)
    assert {read_photodiode(signal, rng, k / 977, no_outliers) for k in range(200)} == {3.3}
    assert max(read_photodiode(signal, rng, k / 977) for k in range(200)) == 3.3
    assert photodiode_signal("90", PARAMS.max_od, 100.0) > 3.3


def test_noise_outliers_and_the_ir_led_off() -> None:
    rng = random.Random(2)
    signal = photodiode_signal("90", 0.5, 50.0)
    quiet = Optics(mains_ripple=0.0, outlier_probability=0.0)
    reads = [read_photodiode(signal, rng, 0.0, quiet) for _ in range(2000)]
    mean = sum(reads) / len(reads)
    spread = math.sqrt(sum((r - mean) ** 2 for r in reads) / len(reads))
    assert mean == pytest.approx(signal, rel=0.002)
    assert spread / signal == pytest.approx(0.01, rel=0.15)
    wild = Optics(relative_noise=0.0, noise_floor=0.0, mains_ripple=0.0, outlier_probability=0.5)
    reads = [read_photodiode(signal, rng, 0.0, wild) for _ in range(400)]
    kinds = {round(r / signal, 6) for r in reads}
    assert kinds == {0.7, 1.0, 1.3}
    dark = [read_photodiode(photodiode_signal("90", 0.5, 0.0), rng, k / 1000) for k in range(500)]
    assert sum(dark) / len(dark) == pytest.approx(0.002, abs=0.0002)
    assert all(0.0 <= read_unconnected(rng) < 0.002 for _ in range(100))


def test_other_leds_add_light_to_every_photodiode() -> None:
    with_white = photodiode_signal("90", 0.1, 50.0, other_light_percent=100.0)
    assert with_white - photodiode_signal("90", 0.1, 50.0) == pytest.approx(0.05)
    assert photodiode_signal("90", 0.1, 0.0, other_light_percent=50.0) > 0.02


def test_mains_ripple_averages_out_over_a_mains_period() -> None:
    optics = Optics(relative_noise=0.0, noise_floor=0.0, outlier_probability=0.0)
    signal = 1.0
    period = 1 / optics.mains_hz
    start = 12.3456
    reads = [read_photodiode(signal, random.Random(0), start + period * k / 40, optics) for k in range(40)]
    assert max(reads) - min(reads) == pytest.approx(2 * optics.mains_ripple, rel=0.05)
    assert sum(reads) / len(reads) == pytest.approx(signal, abs=1e-9)
    assert mains_ripple(signal, period / 4, optics) == pytest.approx(0.03)  # the crest

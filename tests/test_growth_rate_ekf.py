"""The growth-rate filter, its statistics and its linear algebra: pure and fast, no broker."""

from __future__ import annotations

import math
import random

import pytest
from pioreactor.plugins_core.growth_rate import linalg
from pioreactor.plugins_core.growth_rate.ekf import (
    FilterSettings,
    GrowthRateFilter,
    initial_od_from,
    od_implied_by,
)
from pioreactor.plugins_core.growth_rate.statistics import (
    StatisticsCollector,
    detrended_variance,
    trimmed_mean,
)

DT = 5 / 3600  # a reading every 5 s, in hours


def culture(rate: float, n: int, *, noise: float = 0.01, seed: int = 0, od0: float = 1.0) -> list[float]:
    """Normalised readings of an exponential culture with multiplicative Gaussian noise."""
    rng = random.Random(seed)
    return [od0 * math.exp(rate * i * DT) * (1 + noise * rng.gauss(0, 1)) for i in range(n)]


def run_filter(readings: list[float], **kwargs: object) -> tuple[GrowthRateFilter, list[float], list[float]]:
    f = GrowthRateFilter(
        angles={"2": "90"},
        relative_variances={"2": 1e-4},
        initial_od=readings[0],
        **kwargs,
    )
    rates, ods = [], []
    for i, y in enumerate(readings):
        out = f.update({"2": y}, DT if i else 0.0)
        rates.append(out.growth_rate)
        ods.append(out.od_filtered)
    return f, rates, ods


# -- linear algebra ------------------------------------------------------------------------------
def test_linalg_basics() -> None:
    a = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 10.0]]
    assert linalg.matmul(a, linalg.identity()) == a
    assert linalg.transpose(a)[0] == [1.0, 4.0, 7.0]
    assert linalg.matvec(a, [1.0, 0.0, -1.0]) == [-2.0, -2.0, -3.0]
    assert linalg.matmul([[1.0, 2.0]], [[3.0], [4.0]]) == [[11.0]]
    assert linalg.symmetrize([[1.0, 2.0], [0.0, 1.0]]) == [[1.0, 1.0], [1.0, 1.0]]
    assert linalg.outer([1.0, 2.0], [3.0]) == [[3.0], [6.0]]
    assert linalg.diagonal([1, 2]) == [[1.0, 0.0], [0.0, 2.0]]
    assert not linalg.is_finite([[1.0, math.nan]]) and not linalg.is_finite([[math.inf]])


# -- statistics ----------------------------------------------------------------------------------
def test_trimmed_statistics_ignore_one_glitch_and_the_trend() -> None:
    values = [1.0 + 0.01 * i for i in range(20)]  # a clean upward trend
    assert detrended_variance(values) == pytest.approx(0.0, abs=1e-20)
    values[7] = 50.0  # one glitch: dropped as the largest value
    assert trimmed_mean(values) == pytest.approx(
        sum(1.0 + 0.01 * i for i in range(20) if i not in (0, 7)) / 18
    )
    assert detrended_variance(values) == pytest.approx(0.0, abs=1e-20)
    noisy = [1.0 + (0.02 if i % 2 else -0.02) for i in range(40)]
    assert detrended_variance(noisy) == pytest.approx(0.02**2, rel=0.1)
    assert trimmed_mean([3.0, 3.0, 3.0]) == 3.0


def test_collector_skips_start_up_readings_and_reports_progress() -> None:
    collector = StatisticsCollector(4, skip=2)
    for od in (100.0, 100.0):  # skipped
        collector.add({"2": ("90", od)})
    assert collector.percent_done == 0 and not collector.done
    for od in (1.0, 2.0):
        collector.add({"2": ("90", od), "1": ("135", od * 2)})
    assert collector.percent_done == 50
    for od in (3.0, 4.0):
        collector.add({"2": ("90", od), "1": ("135", od * 2)})
    assert collector.done and collector.percent_done == 100
    assert collector.means() == {"2": 2.5, "1": 5.0}
    assert collector.angles == {"2": "90", "1": "135"}
    with pytest.raises(ValueError, match="at least 3"):
        StatisticsCollector(2)


# -- settings ------------------------------------------------------------------------------------
@pytest.mark.parametrize("threshold", [2.0, 1.0, -3.0, math.nan])
def test_outlier_threshold_at_or_below_two_is_refused(threshold: float) -> None:
    with pytest.raises(ValueError, match=r"ekf_outlier_std_threshold must be above 2\.0"):
        FilterSettings(outlier_std_threshold=threshold)


def test_other_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="obs_std"):
        FilterSettings(obs_std=0.0)
    with pytest.raises(ValueError, match="rate_std"):
        FilterSettings(rate_std=-1.0)
    with pytest.raises(ValueError, match="factor"):
        FilterSettings(dosing_variance_factor=0.5)
    with pytest.raises(ValueError, match="angle"):
        GrowthRateFilter(angles={"2": "REF"}, relative_variances={"2": 1e-4}, initial_od=1.0)
    with pytest.raises(ValueError, match="initial_od"):
        GrowthRateFilter(angles={"2": "90"}, relative_variances={"2": 1e-4}, initial_od=0.0)


# -- accuracy ------------------------------------------------------------------------------------
@pytest.mark.parametrize("rate", [0.2, 0.5, 1.0])
def test_constant_growth_rate_is_recovered_within_5_percent(rate: float) -> None:
    for seed in range(3):
        _, rates, ods = run_filter(culture(rate, 680, seed=seed))
        assert rates[-1] == pytest.approx(rate, rel=0.05)
        assert ods[-1] == pytest.approx(math.exp(rate * 679 * DT), rel=0.02)


def test_outliers_neither_go_negative_nor_move_the_rate() -> None:
    rate = 0.5
    readings = culture(rate, 680, seed=4)
    for i in range(49, 680, 50):
        readings[i] *= 3.0 if (i // 50) % 2 else 0.2
    readings[300] = 0.0  # a dead reading
    readings[400] = -0.5  # below the blank
    f, rates, ods = run_filter(readings)
    assert min(ods) > 0
    assert rates[-1] == pytest.approx(rate, rel=0.05)
    # an outlier barely moves the OD estimate and leaves the rate alone
    before = rates[48]
    assert abs(rates[49] - before) < 0.01
    assert ods[49] == pytest.approx(ods[48], rel=0.02)


def test_a_burst_of_bad_readings_cannot_drive_the_od_negative() -> None:
    readings = culture(0.3, 200, seed=5) + [0.0] * 50 + [-2.0] * 50 + [1e-9] * 50
    _, _, ods = run_filter(readings)
    assert all(od > 0 and math.isfinite(od) for od in ods)


def test_a_real_level_shift_is_accepted_after_a_few_readings() -> None:
    readings = culture(0.0, 200, seed=6) + culture(0.0, 200, seed=7, od0=0.5)
    _, rates, ods = run_filter(readings)
    assert ods[-1] == pytest.approx(0.5, rel=0.03)
    assert abs(rates[-1]) < 0.1


def test_a_dosing_event_lets_the_od_jump_without_touching_the_rate() -> None:
    rate = 0.5
    f, _, _ = run_filter(culture(rate, 400, seed=8))
    rate_before = f.growth_rate
    f.note_dosing_event()
    assert f.in_dosing_window
    level = f.od_filtered * 0.7  # a 30 % dilution
    rng = random.Random(9)
    out = None
    for i in range(100):
        level *= math.exp(rate * DT)
        out = f.update({"2": level * (1 + 0.01 * rng.gauss(0, 1))}, DT)
        if i == 1:
            assert out.od_filtered == pytest.approx(level, rel=0.03)  # followed at once
            assert out.growth_rate == pytest.approx(rate_before, abs=1e-3)
            assert out.outliers == ()
    assert out is not None and not f.in_dosing_window
    assert out.growth_rate == pytest.approx(rate, rel=0.05)


def test_without_a_dosing_event_a_dilution_does_not_corrupt_the_rate() -> None:
    rate = 0.5
    f, _, _ = run_filter(culture(rate, 400, seed=10))
    level = f.od_filtered * 0.7
    rng = random.Random(11)
    rates = []
    for _ in range(100):
        level *= math.exp(rate * DT)
        rates.append(f.update({"2": level * (1 + 0.01 * rng.gauss(0, 1))}, DT).growth_rate)
    assert min(rates) > 0.3  # upstream's filter would read a dilution as a crash in growth
    assert f.od_filtered == pytest.approx(level, rel=0.03)


def test_several_angles_including_transmission() -> None:
    rate = 0.4
    rng = random.Random(12)
    angles = {"1": "180", "2": "90"}
    f = GrowthRateFilter(angles=angles, relative_variances={"1": 1e-4, "2": 1e-4}, initial_od=1.0)
    for i in range(680):
        od = math.exp(rate * i * DT)
        readings = {
            "2": od * (1 + 0.01 * rng.gauss(0, 1)),
            "1": math.exp(-(od - 1)) * (1 + 0.01 * rng.gauss(0, 1)),
        }
        out = f.update(readings, DT if i else 0.0)
    assert out.growth_rate == pytest.approx(rate, rel=0.05)
    assert od_implied_by(math.exp(-0.5), "180") == pytest.approx(1.5)
    assert od_implied_by(0.0, "90") is None
    assert initial_od_from({"1": math.exp(-0.2), "2": 1.4}, angles) == pytest.approx(1.3)


def test_outputs_are_in_od_units_and_symmetric() -> None:
    f, _, _ = run_filter(culture(0.5, 100, seed=13))
    out = f.output()
    assert out.state == [out.od_filtered, out.growth_rate, out.acceleration]
    cov = out.covariance
    assert all(cov[i][j] == pytest.approx(cov[j][i]) for i in range(3) for j in range(3))
    assert all(cov[i][i] > 0 for i in range(3))
    # the OD variance is the log-space variance scaled by nOD²
    assert cov[0][0] == pytest.approx(f.P[0][0] * out.od_filtered**2)


def test_bad_input_is_refused_and_leaves_the_filter_unchanged() -> None:
    f, _, _ = run_filter(culture(0.5, 50, seed=14))
    state, hours = list(f.x), f.hours
    with pytest.raises(ValueError, match="finite"):
        f.update({"2": math.nan}, DT)
    with pytest.raises(ValueError, match="not one this filter tracks"):
        f.update({"3": 1.0}, DT)
    with pytest.raises(ValueError, match="time step"):
        f.update({"2": 1.0}, -DT)
    assert f.x == state and f.hours == hours


def test_the_filter_is_deterministic() -> None:
    readings = culture(0.5, 300, seed=15)
    assert run_filter(readings)[1] == run_filter(readings)[1]

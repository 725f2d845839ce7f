"""Calibrations: the curve maths, the plotter, and ``pio calibrations`` list/display/set-active/delete/analyze."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from pioreactor.kernel.cli import pio as pio_group
from pioreactor.plugins_core.calibrations.api import (
    CalibrationError,
    ODCalibration,
    PolyFit,
    PumpCalibration,
    RecordedData,
    StirringCalibration,
    active_calibration_name,
    fit_polynomial,
    list_calibrations,
    load_active_calibration,
    load_calibration,
    r_squared,
    refit,
    save_calibration,
    set_active_calibration,
)
from pioreactor.plugins_core.calibrations.plot import polynomial_text, text_plot

WHEN = datetime(2026, 1, 5, 14, 32, tzinfo=UTC)


def pump(name: str = "p1", slope: float = 0.8, intercept: float = 0.05) -> PumpCalibration:
    x = [0.5, 0.5, 1.0, 1.0, 2.0, 2.0]
    return PumpCalibration(
        calibration_name=name,
        calibrated_on_pioreactor_unit="unit1",
        created_at=WHEN,
        curve_data_=PolyFit([slope, intercept]),
        recorded_data=RecordedData(x=x, y=[slope * v + intercept for v in x]),
    )


def od(name: str = "o1", channel: str = "2", angle: str = "90") -> ODCalibration:
    x = [0.0, 0.25, 0.5, 1.0, 2.0]
    y = [0.0, 1.6, 3.1, 5.9, 10.3]
    return ODCalibration(
        calibration_name=name,
        calibrated_on_pioreactor_unit="unit1",
        created_at=WHEN,
        curve_data_=fit_polynomial(x, y, 2),
        recorded_data=RecordedData(x=x, y=y),
        angle=angle,  # type: ignore[arg-type]
        pd_channel=channel,
        ir_led_intensity=50.0,
    )


# -- the curve ---------------------------------------------------------------------------------
def test_predict_and_ipredict_invert_each_other() -> None:
    cal = od()
    for value in (0.1, 0.7, 1.8):
        assert cal.ipredict(cal.predict(value)) == pytest.approx(value, abs=1e-6)
    assert cal.voltage_to_od600(cal.predict(0.7)) == pytest.approx(0.7, abs=1e-6)


def test_a_straight_line_inverts_anywhere_higher_degrees_only_near_the_data() -> None:
    cal = pump()
    # far beyond the 0.5-2 s that were measured: a pump's line extrapolates
    assert cal.ml_to_duration(20.0) == pytest.approx((20.0 - 0.05) / 0.8)
    assert cal.duration_to_ml(10.0) == pytest.approx(8.05)
    with pytest.raises(CalibrationError, match="outside what calibration 'o1' covers"):
        od().voltage_to_od600(500.0)


def test_an_od_signal_beyond_the_range_maps_to_the_nearest_end() -> None:
    rising = od()
    assert rising.nearest_od600_in_range(50.0) == 2.0
    assert rising.nearest_od600_in_range(-1.0) == 0.0
    x = [0.0, 0.5, 1.0, 2.0]
    falling = ODCalibration(  # the 180 degree photodiode: light through the culture falls with OD
        calibration_name="t",
        calibrated_on_pioreactor_unit="u",
        created_at=WHEN,
        curve_data_=fit_polynomial(x, [3.0 * math.exp(-v) for v in x], 2),
        recorded_data=RecordedData(x=x, y=[3.0 * math.exp(-v) for v in x]),
        angle="180",
        pd_channel="3",
        ir_led_intensity=50.0,
    )
    assert falling.nearest_od600_in_range(10.0) == 0.0
    assert falling.nearest_od600_in_range(0.01) == 2.0


def test_refit_changes_the_degree_and_keeps_the_data() -> None:
    cal = od()
    line = refit(cal, 1)
    assert line.degree == 1 and cal.degree == 2
    assert line.recorded_data == cal.recorded_data
    assert r_squared(cal) > r_squared(line) > 0.99
    with pytest.raises(CalibrationError, match="need more than 5 points"):
        refit(cal, 5)


# -- the plot ----------------------------------------------------------------------------------
def test_the_plot_shows_points_curve_and_axes() -> None:
    x, y = [0.0, 1.0, 2.0], [0.0, 2.0, 4.0]
    text = text_plot(x, y, lambda v: 2 * v, x_label="Duration (s)", y_label="Volume (ml)", title="media_pump", width=30, height=8)
    lines = text.splitlines()
    assert "media_pump" in lines[0] and "Volume (ml)" in lines[1]
    assert lines[2].lstrip().startswith("4 |") and lines[2].rstrip().endswith("o")  # top right: the last point
    assert lines[9].lstrip().startswith("0 |o")  # bottom left: the first point
    assert lines[10].strip().startswith("+---")
    assert lines[11].split() == ["0", "1", "2"] and "Duration (s)" in lines[12]
    assert sum(line.count(".") for line in lines[2:10]) >= 20  # the curve joins the points
    assert polynomial_text([0.8, -0.05], "Duration", "Volume") == "Volume = 0.8 * Duration - 0.05"
    assert polynomial_text([-1.5, 0, 2]) == "y = -1.5 * x^2 + 2"


def test_the_plot_survives_a_single_point_and_a_wild_curve() -> None:
    assert "o" in text_plot([1.0], [1.0])
    text = text_plot([0.0, 1.0], [0.0, 1.0], lambda v: 1e9 * v, width=20, height=6)
    assert text.count("o") >= 2  # the data are still on the plot


# -- the command -------------------------------------------------------------------------------
def run_cli(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(pio_group, ["calibrations", *args], input=input, catch_exceptions=False)


def test_list_display_set_active_and_delete(pio_home) -> None:  # type: ignore[no-untyped-def]
    save_calibration("media_pump", pump("first"))
    save_calibration("media_pump", pump("second", slope=1.1))
    save_calibration("stirring", StirringCalibration(
        calibration_name="s1", calibrated_on_pioreactor_unit="unit1", created_at=WHEN,
        curve_data_=PolyFit([36.0, -72.0]), recorded_data=RecordedData(x=[10.0, 20.0], y=[288.0, 648.0]),
    ))
    set_active_calibration("media_pump", "second")

    listed = run_cli("list").output.splitlines()
    assert listed[0].split() == ["device", "name", "created_at", "(UTC)", "active"]
    assert listed[1].split() == ["media_pump", "first", "2026-01-05", "14:32:00"]
    assert listed[2].split() == ["media_pump", "second", "2026-01-05", "14:32:00", "*"]
    assert listed[3].split()[:2] == ["stirring", "s1"]
    assert len(run_cli("list", "--device", "stirring").output.splitlines()) == 2

    shown = run_cli("display", "--device", "media_pump").output  # the active one
    assert "calibration_type: simple_peristaltic_pump" in shown and "calibration_name: second" in shown
    assert "(active)" in shown and "Volume = 1.1 * Duration + 0.05" in shown and "fitted curve" in shown

    result = run_cli("set-active", "--device", "media_pump", "--name", "first")
    assert result.exit_code == 0 and active_calibration_name("media_pump") == "first"
    result = run_cli("set-active", "--device", "media_pump", "--name", "nope")
    assert result.exit_code == 1 and "no calibration 'nope' for media_pump" in result.output
    assert active_calibration_name("media_pump") == "first"

    result = run_cli("delete", "--device", "media_pump", "--name", "first")
    assert result.exit_code == 0 and "It was active" in result.output
    assert list_calibrations("media_pump") == ["second"] and load_active_calibration("media_pump") is None
    result = run_cli("delete", "--device", "media_pump", "--name", "first")
    assert result.exit_code == 1 and "no calibration 'first' for media_pump" in result.output
    result = run_cli("display", "--device", "media_pump")
    assert result.exit_code == 1 and "media_pump has no active calibration. Pick one with --name: second" in result.output

    result = run_cli("set-active", "--device", "stirring", "--none")
    assert result.exit_code == 0 and "stirring had no active calibration" in result.output
    set_active_calibration("stirring", "s1")
    assert run_cli("set-active", "--device", "stirring", "--none").exit_code == 0
    assert active_calibration_name("stirring") is None
    assert run_cli("list", "--device", "od90").output.startswith("No calibrations for od90 yet")


def test_analyze_refits_with_another_degree(pio_home) -> None:  # type: ignore[no-untyped-def]
    save_calibration("od90", od("curve"))
    result = run_cli("analyze", "--device", "od90", "--name", "curve", "--degree", "1", "-y")
    assert result.exit_code == 0, result.output
    assert "Now: Voltage = " in result.output and "(degree 2," in result.output
    assert "Refitted: Voltage = " in result.output and "residual" in result.output and "Saved to" in result.output
    assert load_calibration("od90", "curve").degree == 1
    # interactively: the degree is asked, and "no" keeps the file as it is
    result = run_cli("analyze", "--device", "od90", "--name", "curve", input="3\nn\n")
    assert "Degree of the polynomial [1]: 3" in result.output and "Not saved." in result.output
    assert load_calibration("od90", "curve").degree == 1


def test_protocols_are_plugins_and_unknown_devices_are_named(pio_home) -> None:  # type: ignore[no-untyped-def]
    rows = [line.split()[:2] for line in run_cli("protocols").output.splitlines()[1:]]
    for device in ("media_pump", "alt_media_pump", "waste_pump"):
        assert [device, "duration_based"] in rows
    assert ["stirring", "dc_based"] in rows and ["od90", "standards"] in rows and ["od180", "standards"] in rows
    result = run_cli("run", "--device", "turbine", "-y")
    assert result.exit_code == 1
    assert "no calibration protocol for 'turbine'" in result.output and "media_pump" in result.output
    result = run_cli("run", "--device", "media_pump", "--protocol-name", "guess", "-y")
    assert result.exit_code == 1 and "no calibration protocol 'guess' for media_pump" in result.output
    result = run_cli("run", "--device", "media_pump", "--name", "bad name!", "-y")
    assert result.exit_code == 1 and "calibration name 'bad name!' is not valid" in result.output

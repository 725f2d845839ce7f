"""A broken pump calibration (NaN or infinite numbers) or an oversized dose never runs a pump."""

from __future__ import annotations

import pytest
from pioreactor.sdk.testing import PioHome
from test_pumps import calibrate, truth

BROKEN = """\
calibration_type: simple_peristaltic_pump
calibration_name: broken
calibrated_on_pioreactor_unit: test
created_at: 2026-01-01T00:00:00Z
curve_data_: {{type: poly, coefficients: [{slope}, 0.0]}}
recorded_data: {{x: [1.0, 2.0], y: [1.0, 2.0]}}
"""


def install_broken(slope: str) -> None:
    from pioreactor.kernel.storage import local_persistent_storage
    from pioreactor.plugins_core.calibrations.api import ACTIVE, calibrations_dir

    folder = calibrations_dir("media_pump")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "broken.yaml").write_text(BROKEN.format(slope=slope))
    with local_persistent_storage(ACTIVE) as store:  # as an older version may have left it
        store["media_pump"] = "broken"


@pytest.mark.parametrize("slope", [".nan", ".inf", "-.inf"])
def test_a_non_finite_calibration_is_refused_and_the_pump_stays_off(pio, pio_home: PioHome, slope: str) -> None:
    install_broken(slope)
    result = pio("run", "add_media", "--ml", "1", timeout=30)
    assert result.returncode != 0
    assert "finite" in result.stderr and "broken.yaml" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert truth()["media_added_ml"] == 0.0


def test_loading_a_non_finite_calibration_names_the_file(pio_home: PioHome) -> None:
    from pioreactor.plugins_core.calibrations.api import CalibrationError, load_calibration

    install_broken(".nan")
    with pytest.raises(CalibrationError, match=r"broken\.yaml.*coefficients must be finite"):
        load_calibration("media_pump", "broken")


def test_a_dose_larger_than_the_vial_is_refused(pio, pio_home: PioHome) -> None:
    calibrate("media")
    result = pio("run", "add_media", "--ml", "25", timeout=30)
    assert result.returncode != 0
    assert "more than the vial holds" in result.stderr and "reactor_capacity_ml = 20" in result.stderr
    assert truth()["media_added_ml"] == 0.0
    # a duration that would pump as much is refused too, by the calibration's flow
    result = pio("run", "add_media", "--duration", "30", timeout=30)
    assert result.returncode != 0 and "more than the vial holds" in result.stderr


def test_a_calibration_whose_curve_overflows_at_the_dose_is_refused(pio_home: PioHome) -> None:
    from datetime import UTC, datetime

    from pioreactor.plugins_core.calibrations.api import (
        CalibrationError,
        PolyFit,
        PumpCalibration,
        RecordedData,
    )

    calibration = PumpCalibration(
        calibration_name="steep",
        calibrated_on_pioreactor_unit="test",
        created_at=datetime.now(UTC),
        curve_data_=PolyFit([1e308, 1e308, 0.0]),
        recorded_data=RecordedData(x=[1.0, 2.0], y=[1.0, 2.0]),
    )
    with pytest.raises(CalibrationError, match="cannot be used"):
        calibration.duration_to_ml(10.0)

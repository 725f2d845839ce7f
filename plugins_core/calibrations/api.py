"""The calibrations plugin's public API: typed calibration curves, kept as YAML in
``$PIO_HOME/storage/calibrations/<device>/<name>.yaml``, and which one is active per device.

Jobs use the active calibration of their device: pumps turn ml into seconds, stirring starts at
the duty cycle of its target RPM, od_reading turns voltages into OD600. A calibration protocol
(``pioreactor.sdk.calibration_protocols``) builds one of these and saves it.

    from pioreactor.plugins_core.calibrations.api import load_active_calibration
    calibration = load_active_calibration("media_pump")
    seconds = calibration.y_to_x(1.0) if calibration else None
"""

from pioreactor.plugins_core.calibrations.model import (
    ACTIVE,
    DEVICE_KINDS,
    NAME_PATTERN,
    AnyCalibration,
    Calibration,
    CalibrationError,
    ODCalibration,
    PolyFit,
    PumpCalibration,
    RecordedData,
    StirringCalibration,
    Timestamp,
    active_calibration_name,
    calibration_path,
    calibrations_dir,
    clear_active_calibration,
    delete_calibration,
    fit_polynomial,
    from_yaml,
    list_calibrations,
    list_devices,
    load_active_calibration,
    load_calibration,
    r_squared,
    refit,
    save_calibration,
    set_active_calibration,
    to_yaml,
)

__all__ = [
    "ACTIVE",
    "AnyCalibration",
    "Calibration",
    "CalibrationError",
    "DEVICE_KINDS",
    "NAME_PATTERN",
    "ODCalibration",
    "PolyFit",
    "PumpCalibration",
    "RecordedData",
    "StirringCalibration",
    "Timestamp",
    "active_calibration_name",
    "calibration_path",
    "calibrations_dir",
    "clear_active_calibration",
    "delete_calibration",
    "fit_polynomial",
    "from_yaml",
    "list_calibrations",
    "list_devices",
    "load_active_calibration",
    "load_calibration",
    "r_squared",
    "refit",
    "save_calibration",
    "set_active_calibration",
    "to_yaml",
]

"""Calibrations: typed curves kept as YAML in ``$PIO_HOME/storage/calibrations/<device>/<name>.yaml``.

One calibration per device is *active* (persistent storage ``active_calibrations``); jobs use it:
pumps turn ml into seconds, stirring starts at the duty cycle for its target RPM, od_reading
turns voltages into OD600. Each kind is a struct tagged by ``calibration_type`` (as upstream):

* ``simple_peristaltic_pump``: volume (ml) from duration (s); devices media_pump, alt_media_pump, waste_pump
* ``simple_stirring``: RPM from duty cycle (%); device stirring
* ``od``: voltage from OD600, per angle; devices od45, od90, od135, od180

The curve is a polynomial ``y = c0*x^n + ... + cn`` (coefficients highest degree first);
``x_to_y`` (alias ``predict``) evaluates it and ``y_to_x`` (alias ``ipredict``) inverts it: a
straight line exactly, anywhere; a higher degree within (a little beyond) the range the data
covered. ``refit`` fits the recorded data again with another degree (``pio calibrations analyze``).
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import msgspec
from pioreactor.sdk import PioreactorError, local_persistent_storage, storage_dir

Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
ACTIVE = "active_calibrations"


class CalibrationError(PioreactorError):
    """A calibration is missing, malformed, or cannot answer (e.g. a value outside its range)."""



def _all_finite(values: list[float], what: str) -> None:
    bad = [v for v in values if not math.isfinite(v)]
    if bad:
        # a NaN curve never reaches a volume (the pump would run on) and an infinite one gives 0 s
        raise ValueError(f"{what} must be finite numbers, got {bad[0]!r}")


class PolyFit(msgspec.Struct, tag="poly"):
    """A polynomial curve, coefficients highest degree first."""

    coefficients: list[float]

    def __post_init__(self) -> None:
        if not self.coefficients:
            raise ValueError("a curve needs at least one coefficient")
        _all_finite(self.coefficients, "the curve's coefficients")

    def __call__(self, x: float) -> float:
        y = 0.0
        for c in self.coefficients:
            y = y * x + c
        return y


class RecordedData(msgspec.Struct):
    """The measured points (``x``, ``y``) a curve was fitted to."""

    x: list[float]
    y: list[float]

    def __post_init__(self) -> None:
        _all_finite(self.x, "the recorded x values")
        _all_finite(self.y, "the recorded y values")


class Calibration(msgspec.Struct, tag_field="calibration_type", kw_only=True):
    """Base of every calibration: its name, unit, creation time, curve and recorded data."""

    calibration_name: str
    calibrated_on_pioreactor_unit: str
    created_at: Timestamp
    curve_data_: PolyFit
    recorded_data: RecordedData
    x: str
    y: str

    def x_to_y(self, x: float) -> float:
        y = self.curve_data_(x)
        if not math.isfinite(y):
            raise CalibrationError(
                f"calibration {self.calibration_name!r} gives {y} {self.y} at {x:g} {self.x}: "
                "its curve cannot be used there; recalibrate"
            )
        return y

    def predict(self, x: float) -> float:
        """``y`` at ``x`` (upstream's name for `x_to_y`)."""
        return self.x_to_y(x)

    def ipredict(self, y: float) -> float:
        """The ``x`` that gives ``y`` (upstream's name for `y_to_x`)."""
        return self.y_to_x(y)

    @property
    def degree(self) -> int:
        return len(self.curve_data_.coefficients) - 1

    def y_to_x(self, y: float) -> float:
        """The ``x`` whose ``y`` this is. A straight line is inverted exactly, at any ``x``;
        higher degrees are solved within the range of the recorded ``x`` plus half its span on
        either side (bisection on the fitted curve, which must be monotonic there)."""
        if not math.isfinite(y):
            raise CalibrationError(f"cannot look up {y} {self.y} in calibration {self.calibration_name!r}")
        coefficients = self.curve_data_.coefficients
        if len(coefficients) == 2 and coefficients[0] != 0:
            slope, intercept = coefficients
            x = (y - intercept) / slope
            if not math.isfinite(x):
                raise CalibrationError(f"calibration {self.calibration_name!r} gives no finite {self.x} for {y:g} {self.y}")
            return x
        if not self.recorded_data.x:
            raise CalibrationError(f"calibration {self.calibration_name!r} has no recorded data to invert its curve on")
        low, high = min(self.recorded_data.x), max(self.recorded_data.x)
        span = high - low or 1.0
        low, high = low - 0.5 * span, high + 0.5 * span  # allow a little extrapolation
        f_low, f_high = self.x_to_y(low) - y, self.x_to_y(high) - y
        if f_low * f_high > 0:
            raise CalibrationError(
                f"{y:g} {self.y} is outside what calibration {self.calibration_name!r} covers "
                f"({self.x_to_y(low):.4g} to {self.x_to_y(high):.4g} {self.y})"
            )
        for _ in range(100):
            mid = (low + high) / 2
            f_mid = self.x_to_y(mid) - y
            if f_low * f_mid <= 0:
                high = mid
            else:
                low, f_low = mid, f_mid
        return (low + high) / 2


class PumpCalibration(Calibration, tag="simple_peristaltic_pump", kw_only=True):
    """A pump's volume (ml) from its running time (s)."""

    hz: float = 250.0
    dc: float = 100.0
    voltage: float = -1.0
    x: str = "Duration"
    y: str = "Volume"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.hz) and self.hz > 0):
            raise ValueError(f"hz must be a positive number, got {self.hz!r}")
        if not (math.isfinite(self.dc) and 0 < self.dc <= 100):
            raise ValueError(f"dc must be a duty cycle above 0 and at most 100, got {self.dc!r}")

    def duration_to_ml(self, seconds: float) -> float:
        return self.x_to_y(seconds)

    def ml_to_duration(self, ml: float) -> float:
        if not math.isfinite(ml) or ml < 0:
            raise CalibrationError(f"cannot dose {ml:g} ml: a volume is a finite, non-negative number")
        if ml == 0:
            return 0.0
        seconds = self.y_to_x(ml)
        if seconds < 0:
            raise CalibrationError(f"calibration {self.calibration_name!r} gives a negative duration for {ml:g} ml")
        return seconds


class StirringCalibration(Calibration, tag="simple_stirring", kw_only=True):
    """Stirring's RPM from its duty cycle (%)."""

    pwm_hz: float = 200.0
    voltage: float = -1.0
    x: str = "DC %"
    y: str = "RPM"

    def rpm_to_duty_cycle(self, rpm: float) -> float:
        return self.y_to_x(rpm)


class ODCalibration(Calibration, tag="od", kw_only=True):
    """A photodiode's signal (V) from OD600, for one angle."""

    angle: Literal["45", "90", "135", "180"]
    pd_channel: str
    ir_led_intensity: float
    x: str = "OD600"
    y: str = "Voltage"

    def voltage_to_od600(self, voltage: float) -> float:
        return self.y_to_x(voltage)

    def nearest_od600_in_range(self, voltage: float) -> float:
        """The end of the calibrated OD600 range that ``voltage`` lies beyond (for a reading the
        curve cannot invert): the lowest recorded OD600 if the voltage is on that side of the
        curve, else the highest."""
        low, high = min(self.recorded_data.x), max(self.recorded_data.x)
        increasing = self.x_to_y(high) >= self.x_to_y(low)
        below = voltage <= self.x_to_y(low) if increasing else voltage >= self.x_to_y(low)
        return low if below else high


AnyCalibration = PumpCalibration | StirringCalibration | ODCalibration
C = TypeVar("C", bound=Calibration)

#: which calibration kinds each device takes
DEVICE_KINDS: dict[str, type[Calibration]] = {
    "media_pump": PumpCalibration,
    "alt_media_pump": PumpCalibration,
    "waste_pump": PumpCalibration,
    "stirring": StirringCalibration,
    "od45": ODCalibration,
    "od90": ODCalibration,
    "od135": ODCalibration,
    "od180": ODCalibration,
}


def fit_polynomial(x: list[float], y: list[float], degree: int = 1) -> PolyFit:
    """Least-squares polynomial fit (no numpy: normal equations, degrees up to ~4)."""
    if len(x) != len(y) or len(x) <= degree:
        raise CalibrationError(f"need more than {degree} points to fit a degree-{degree} curve, got {len(x)}")
    n = degree + 1
    m = [[sum(xi ** (2 * degree - i - j) for xi in x) for j in range(n)] for i in range(n)]
    v = [sum(yi * xi ** (degree - i) for xi, yi in zip(x, y, strict=True)) for i in range(n)]
    # Gaussian elimination with partial pivoting
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-300:
            raise CalibrationError("the points do not determine a curve (all x equal?)")
        m[col], m[pivot], v[col], v[pivot] = m[pivot], m[col], v[pivot], v[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            m[r] = [a - f * b for a, b in zip(m[r], m[col], strict=True)]
            v[r] -= f * v[col]
    coefficients = [0.0] * n
    for r in range(n - 1, -1, -1):
        coefficients[r] = (v[r] - sum(m[r][k] * coefficients[k] for k in range(r + 1, n))) / m[r][r]
    if not all(math.isfinite(c) for c in coefficients):
        raise CalibrationError("the fit did not converge")
    return PolyFit(coefficients)


def refit(calibration: C, degree: int) -> C:
    """The calibration with its curve fitted again to its recorded data, as a polynomial of ``degree``."""
    if not 0 <= degree <= 5:
        raise CalibrationError(f"the degree must be between 0 and 5, got {degree}")
    data = calibration.recorded_data
    return msgspec.structs.replace(calibration, curve_data_=fit_polynomial(data.x, data.y, degree))


def r_squared(calibration: Calibration) -> float:
    """How much of the recorded ``y``'s variance the curve explains (1 is a perfect fit)."""
    x, y = calibration.recorded_data.x, calibration.recorded_data.y
    if not y:
        return math.nan
    mean = sum(y) / len(y)
    total = sum((v - mean) ** 2 for v in y)
    residual = sum((v - calibration.x_to_y(u)) ** 2 for u, v in zip(x, y, strict=True))
    return 1.0 - residual / total if total > 0 else (1.0 if residual == 0 else math.nan)


# -- files ------------------------------------------------------------------------------------
def calibrations_dir(device: str | None = None) -> Path:
    """Where calibrations are kept (of one device, when given)."""
    base = storage_dir() / "calibrations"
    return base / device if device else base


def _check_name(kind: str, value: str) -> None:
    if not NAME_PATTERN.match(value):
        raise CalibrationError(f"{kind} {value!r} is not valid: use letters, digits, '_', '-' and '.'")


def calibration_path(device: str, name: str) -> Path:
    """The YAML file of a device's calibration; names with path separators are refused."""
    _check_name("device", device)
    _check_name("calibration name", name)
    return calibrations_dir(device) / f"{name}.yaml"


def to_yaml(calibration: Calibration) -> bytes:
    """A calibration as YAML text."""
    import yaml

    data = msgspec.to_builtins(calibration)
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None).encode()


def from_yaml(text: bytes | str, *, source: str = "calibration") -> AnyCalibration:
    """A calibration read from YAML text; malformed or non-finite values raise CalibrationError naming ``source``."""
    import yaml

    try:
        data = yaml.safe_load(text)
        return msgspec.convert(data, AnyCalibration)
    except yaml.YAMLError as err:
        raise CalibrationError(f"{source} is not valid YAML: {err}") from None
    except msgspec.ValidationError as err:
        raise CalibrationError(f"{source} is not a calibration this version understands: {err}") from None


def save_calibration(device: str, calibration: Calibration) -> Path:
    """Write the calibration's YAML (replacing one of the same name) and return its path."""
    path = calibration_path(device, calibration.calibration_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_bytes(to_yaml(calibration))
    tmp.replace(path)
    return path


def load_calibration(device: str, name: str) -> AnyCalibration:
    """Read one calibration of a device."""
    path = calibration_path(device, name)
    if not path.exists():
        raise CalibrationError(
            f"no calibration {name!r} for {device}. `pio calibrations list --device {device}` lists them."
        )
    return from_yaml(path.read_bytes(), source=str(path))


def list_calibrations(device: str) -> list[str]:
    """The names of a device's calibrations."""
    folder = calibrations_dir(device)
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def list_devices() -> list[str]:
    """The devices that have calibrations."""
    base = calibrations_dir()
    return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def delete_calibration(device: str, name: str) -> None:
    """Remove one calibration (and its active mark)."""
    path = calibration_path(device, name)
    if not path.exists():
        raise CalibrationError(f"no calibration {name!r} for {device}")
    path.unlink()
    if active_calibration_name(device) == name:
        with local_persistent_storage(ACTIVE) as store:
            del store[device]


def set_active_calibration(device: str, name: str) -> None:
    """Make a calibration the one the device's jobs use."""
    load_calibration(device, name)  # it must exist and parse
    with local_persistent_storage(ACTIVE) as store:
        store[device] = name


def clear_active_calibration(device: str) -> bool:
    """The device has no active calibration afterwards; True if it had one."""
    with local_persistent_storage(ACTIVE) as store:
        if device in store:
            del store[device]
            return True
    return False


def active_calibration_name(device: str) -> str | None:
    """The name of the device's active calibration, if any."""
    with local_persistent_storage(ACTIVE) as store:
        name = store.get(device)
    return str(name) if name else None


def load_active_calibration(device: str) -> AnyCalibration | None:
    """The device's active calibration, or None if it has none."""
    name = active_calibration_name(device)
    return load_calibration(device, name) if name else None


# -- readings ---------------------------------------------------------------------------------

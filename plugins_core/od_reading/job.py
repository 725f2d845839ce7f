"""The ``od_reading`` job: photodiode readings, normalised by the IR LED's reference photodiode.

Each reading: other LEDs off (if configured) and the IR LED on, every photodiode channel
sampled ``samples_per_reading`` times across a mains period, hum removed, the ADC offset
(measured with the IR LED off at start) subtracted, and each channel divided by the moving
average of the REF channel. Published as ``ods`` (all channels) and ``od1``, ``od2``, ... .
A channel above ``saturation_voltage`` means the ADC is saturated: the IR LED goes off and the
job stops with an error.

Where the angle of a channel has an active OD calibration (``pio calibrations set-active
--device od90 ...``), that channel's ``od`` is OD600 through the calibration and its reading
says ``"calibrated": 1``; the uncalibrated value is published as ``raw_od1``, ``raw_od2``, ... .
A signal beyond the calibrated range reports the nearest end of the range (with one warning).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pioreactor.plugins_core.calibrations.api import CalibrationError, ODCalibration, load_active_calibration
from pioreactor.plugins_core.leds.api import locked, set_intensities, temporarily
from pioreactor.plugins_core.od_reading.processing import ReferenceTracker, remove_mains_hum
from pioreactor.plugins_core.od_reading.structs import (
    CalibratedODReading,
    ODReading,
    ODReadings,
    RelativeIntensityOfIrLed,
)
from pioreactor.sdk import BackgroundJob, RepeatedTimer, get_config, get_hardware
from pioreactor.sdk.structs import encode

SECTION = "od_reading.config"
CHANNEL_SECTION = "od_config.photodiode_channel"
ANGLES = ("45", "90", "135", "180")
AUTO_IR_START = 50.0
AUTO_IR_RANGE = (20.0, 80.0)
TARGET_REF_VOLTAGE = 0.1


def channel_angles(config: Any) -> tuple[dict[str, str], str | None]:
    """``{channel: angle}`` of the measuring photodiodes and the REF channel, from config."""
    angles: dict[str, str] = {}
    reference = None
    for channel, value in config.section(CHANNEL_SECTION).items():
        value = (value or "").strip()
        if not value:
            continue
        if value == "REF":
            reference = channel
        elif value in ANGLES:
            angles[channel] = value
        else:
            raise ValueError(
                f"[{CHANNEL_SECTION}] {channel} = {value!r}: use one of {', '.join(ANGLES)}, REF, or leave it empty"
            )
    if not angles:
        raise ValueError(f"[{CHANNEL_SECTION}] names no photodiode at an angle (e.g. 2=90): nothing to measure")
    return angles, reference


def active_od_calibrations(angles: dict[str, str]) -> dict[str, ODCalibration]:
    """``{channel: calibration}``: the active calibration of each channel's angle (``od90``...)
    that was made on that channel. One made on a channel that no longer has that angle is an
    error, rather than a silent OD600 from another photodiode's curve."""
    found: dict[str, ODCalibration] = {}
    for angle in sorted(set(angles.values())):
        device = f"od{angle}"
        calibration = load_active_calibration(device)
        if calibration is None:
            continue
        if not isinstance(calibration, ODCalibration):
            raise CalibrationError(f"the active calibration of {device}, {calibration.calibration_name!r}, is not an OD calibration")
        channel = calibration.pd_channel
        if angles.get(channel) != angle:
            raise CalibrationError(
                f"the active calibration of {device}, {calibration.calibration_name!r}, was made with the photodiode "
                f"on channel {channel}, which is not at {angle} degrees now ([{CHANNEL_SECTION}]). Recalibrate, "
                f"or stop using it: pio calibrations set-active --device {device} --none"
            )
        found[channel] = calibration
    return found


def ir_led_channel(config: Any) -> str:
    for channel, name in config.section("leds").items():
        if (name or "").strip() == "IR":
            return channel
    raise ValueError("no LED channel is labelled IR under [leds] in config (e.g. A=IR): the OD reader needs one")


class ODReader(BackgroundJob):
    """Measure optical density every interval and publish it.

    :param interval: Seconds between readings [default: 1/samples_per_second from config].
    :param ir_led_intensity: IR LED intensity in %, or auto [default: from config].
    :param snapshot: Take one reading, print it as JSON, and exit.
    :param use_calibration: Report OD600 through each angle's active OD calibration, if it has one.
    """

    job_name = "od_reading"
    published_settings = {
        "first_od_obs_time": {"datatype": "float", "settable": False},
        "interval": {"datatype": "float", "settable": True, "unit": "s"},
        "ir_led_intensity": {"datatype": "float", "settable": True, "unit": "%"},
        "ods": {"datatype": ODReadings, "settable": False},
        # upstream's topic: a JSON object, published with each reading when a REF photodiode is set
        "relative_intensity_of_ir_led": {"datatype": RelativeIntensityOfIrLed, "settable": False},
        "od1": {"datatype": ODReading, "settable": False},
        "od2": {"datatype": ODReading, "settable": False},
        "od3": {"datatype": ODReading, "settable": False},
        "od4": {"datatype": ODReading, "settable": False},
        "raw_od1": {"datatype": ODReading, "settable": False},
        "raw_od2": {"datatype": ODReading, "settable": False},
        "raw_od3": {"datatype": ODReading, "settable": False},
        "raw_od4": {"datatype": ODReading, "settable": False},
    }

    def __init__(
        self,
        unit: str,
        experiment: str,
        *,
        interval: float | None = None,
        ir_led_intensity: str | None = None,
        snapshot: bool = False,
        use_calibration: bool = True,
    ) -> None:
        config = get_config()
        if interval is None:
            interval = 1.0 / config.getfloat(SECTION, "samples_per_second")
        if interval <= 0:
            raise ValueError(f"interval must be a positive number of seconds, got {interval:g}")
        requested = (ir_led_intensity or config.get(SECTION, "ir_led_intensity")).strip()
        self.auto_ir = requested == "auto"
        if not self.auto_ir:
            try:
                intensity = float(requested)
            except ValueError:
                raise ValueError(f"ir_led_intensity must be a percentage or auto, got {requested!r}") from None
            if not 0 < intensity <= 100:
                raise ValueError(f"ir_led_intensity must be between 0 and 100 %, got {intensity:g}")
        self.angles, self.reference_channel = channel_angles(config)
        self.ir_channel = ir_led_channel(config)
        self.calibrations = active_od_calibrations(self.angles) if use_calibration else {}

        super().__init__(unit, experiment)
        self.snapshot = snapshot
        self.samples = max(3, config.getint(SECTION, "samples_per_reading"))
        self.mains_hz = config.getfloat(SECTION, "mains_hz")
        self.sample_spacing = config.getfloat(SECTION, "mains_periods") / self.mains_hz / self.samples
        self.warning_voltage = config.getfloat(SECTION, "warning_voltage")
        self.saturation_voltage = config.getfloat(SECTION, "saturation_voltage")
        self.other_leds_off = config.getboolean(SECTION, "turn_off_leds_during_reading")
        self.reference = ReferenceTracker(config.getfloat(SECTION, "pd_reference_ema"))
        self.adc = get_hardware().adc()
        self.channels = sorted(self.angles) + ([self.reference_channel] if self.reference_channel else [])
        self.reading_callbacks: list[Callable[[ODReadings], None]] = []
        self._raw: dict[str, ODReading] = {}
        self._first_reference: float | None = None
        self._relative_ir: RelativeIntensityOfIrLed | None = None
        self.relative_intensity_of_ir_led: RelativeIntensityOfIrLed | None = None
        self._reading_lock = threading.Lock()
        self._warned: set[str] = set()
        self._warned_range: set[str] = set()
        for channel, calibration in sorted(self.calibrations.items()):
            self.logger.info(
                "Channel %s reports OD600 through calibration %r of od%s.",
                channel, calibration.calibration_name, calibration.angle,
            )
            if not self.auto_ir and abs(calibration.ir_led_intensity - intensity) > 1e-9:
                self.logger.warning(
                    "Calibration %r was made with the IR LED at %g %%, this reading runs it at %g %%: "
                    "recalibrate at this intensity if the OD600 looks off.",
                    calibration.calibration_name, calibration.ir_led_intensity, intensity,
                )

        self.interval = interval
        self.ir_led_intensity = AUTO_IR_START if self.auto_ir else intensity
        self.first_od_obs_time: float | None = None
        self.offsets = self._measure_offsets()
        if self.auto_ir:
            self.ir_led_intensity = self._choose_ir_intensity()
        self._timer: RepeatedTimer | None = None

    # -- start-up measurements -----------------------------------------------------------------
    def _led_state(self, ir: float) -> dict[str, float]:
        desired = {self.ir_channel: ir}
        if self.other_leds_off:
            desired |= {ch: 0.0 for ch in ("A", "B", "C", "D") if ch != self.ir_channel}
        return desired

    def _sample_channels(self) -> dict[str, float]:
        """One hum-free voltage per channel (samples interleaved across channels)."""
        times: dict[str, list[float]] = {ch: [] for ch in self.channels}
        values: dict[str, list[float]] = {ch: [] for ch in self.channels}
        for _ in range(self.samples):
            for channel in self.channels:
                times[channel].append(self.clock.monotonic())
                values[channel].append(self.adc.read_voltage(channel))
            self.clock.sleep(self.sample_spacing)
        return {ch: remove_mains_hum(times[ch], values[ch], self.mains_hz) for ch in self.channels}

    def _measure_offsets(self) -> dict[str, float]:
        """What each photodiode reads with the IR LED off: the ADC's offset."""
        with locked(["A", "B", "C", "D"]), temporarily(self._led_state(0.0), source_of_event=self.job_name):
            return self._sample_channels()

    def _choose_ir_intensity(self) -> float:
        """Scale the IR LED so the REF photodiode reads about 0.1 V (kept between 20 and 80 %)."""
        if self.reference_channel is None:
            return AUTO_IR_START
        with locked(["A", "B", "C", "D"]), temporarily(self._led_state(AUTO_IR_START), source_of_event=self.job_name):
            voltages = self._sample_channels()
        ref = voltages[self.reference_channel] - self.offsets[self.reference_channel]
        if ref <= 0:
            self.logger.warning("The REF photodiode reads nothing with the IR LED on; is it in its slot? Using 50 %.")
            return AUTO_IR_START
        chosen = AUTO_IR_START * TARGET_REF_VOLTAGE / ref
        return round(min(AUTO_IR_RANGE[1], max(AUTO_IR_RANGE[0], chosen)), 2)

    # -- readings ----------------------------------------------------------------------------
    def take_reading(self) -> ODReadings | None:
        """One reading of every channel; None if the job stopped because a channel saturated."""
        with self._reading_lock:
            with locked(["A", "B", "C", "D"]):
                with temporarily(self._led_state(self.ir_led_intensity), source_of_event=self.job_name):
                    timestamp = self.clock.utc_now()
                    raw = self._sample_channels()
            if not self._check_saturation(raw):
                return None
            corrected = {ch: max(0.0, raw[ch] - self.offsets.get(ch, 0.0)) for ch in self.channels}
            scale = 1.0
            if self.reference_channel is not None:
                ref = self.reference.update(corrected[self.reference_channel])
                scale = ref if ref > 0 else 1.0
                if self._first_reference is None and ref > 0:
                    self._first_reference = ref
                if self._first_reference:
                    self._relative_ir = RelativeIntensityOfIrLed(
                        relative_intensity_of_ir_led=round(ref / self._first_reference, 6), timestamp=timestamp
                    )
            ods = {}
            for channel, angle in sorted(self.angles.items()):
                signal = corrected[channel] / scale
                calibration = self.calibrations.get(channel)
                ods[channel] = CalibratedODReading(
                    timestamp=timestamp,
                    angle=angle,
                    od=signal if calibration is None else self._to_od600(channel, calibration, signal),
                    channel=channel,
                    ir_led_intensity=self.ir_led_intensity,
                    calibrated=int(calibration is not None),
                )
                if calibration is not None:
                    self._raw[channel] = ODReading(
                        timestamp=timestamp, angle=angle, od=signal, channel=channel, ir_led_intensity=self.ir_led_intensity
                    )
            return ODReadings(timestamp=timestamp, ods=ods)

    def _to_od600(self, channel: str, calibration: ODCalibration, signal: float) -> float:
        try:
            return calibration.voltage_to_od600(signal)
        except CalibrationError:
            od600 = calibration.nearest_od600_in_range(signal)
            if channel not in self._warned_range:
                self._warned_range.add(channel)
                self.logger.warning(
                    "Channel %s reads %.4g, outside what calibration %r covers: reporting OD600 %g, the "
                    "nearest end of its range (warned once).",
                    channel, signal, calibration.calibration_name, od600,
                )
            return od600

    def _check_saturation(self, voltages: dict[str, float]) -> bool:
        for channel, volts in voltages.items():
            if volts > self.saturation_voltage:
                set_intensities({self.ir_channel: 0.0}, source_of_event=self.job_name)
                self.stop_with_error(
                    f"Photodiode channel {channel} reads {volts:.2f} V, above {self.saturation_voltage:g} V: the ADC "
                    f"is saturated. The IR LED is off and od_reading stops; lower ir_led_intensity "
                    f"(now {self.ir_led_intensity:g} %) or check the vial."
                )
                return False
            if volts > self.warning_voltage and channel not in self._warned:
                self._warned.add(channel)
                self.logger.warning(
                    "Photodiode channel %s reads %.2f V, close to saturation (%.1f V).", channel, volts, self.saturation_voltage
                )
        return True

    def record(self) -> ODReadings | None:
        if self.state != self.READY:
            return None
        readings = self.take_reading()
        if readings is None:
            return None
        if self.first_od_obs_time is None:
            self.first_od_obs_time = self.clock.time()
        self.ods = readings
        if self._relative_ir is not None:
            self.relative_intensity_of_ir_led = self._relative_ir
        for channel, reading in readings.ods.items():
            setattr(self, f"od{channel}", reading)
            raw = self._raw.get(channel)
            if raw is not None and raw.timestamp == readings.timestamp:
                setattr(self, f"raw_od{channel}", raw)
        for callback in list(self.reading_callbacks):
            try:
                callback(readings)
            except Exception:
                self.logger.exception("A reading callback failed")
        return readings

    # -- settings ----------------------------------------------------------------------------
    def set_interval(self, interval: float) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be a positive number of seconds, got {interval:g}")
        self.interval = interval
        if self._timer is not None:
            self._timer.cancel()
            self._timer = RepeatedTimer(interval, self.record, run_after=interval, name="od-readings").start()

    def set_ir_led_intensity(self, intensity: float) -> None:
        if not 0 < intensity <= 100:
            raise ValueError(f"ir_led_intensity must be between 0 and 100 %, got {intensity:g}")
        self.ir_led_intensity = intensity

    # -- lifecycle ---------------------------------------------------------------------------
    def on_ready(self) -> None:
        if self.snapshot:
            readings = self.record()
            if readings is not None:
                print(encode(readings).decode(), flush=True)
            self.request_stop("snapshot taken")
            return
        if self._timer is None:
            self._timer = RepeatedTimer(self.interval, self.record, run_immediately=True, name="od-readings").start()
        self._timer.unpause()

    def on_ready_to_sleeping(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    def on_disconnected(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._reading_lock:
            set_intensities({self.ir_channel: 0.0}, source_of_event=self.job_name, verbose=False)

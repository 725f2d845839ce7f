"""The ``rpi`` hardware backend: a Pioreactor HAT (>= 1.1, with its Pico) on a Raspberry Pi.

PWM outputs and the hall sensor go through lgpio on the GPIO chip; the ADC, the LED driver
(the Pico's DAC) and the TMP1075 temperature sensor through smbus2 on I2C bus 1. lgpio and
smbus2 are imported when the backend is built, never when this module is imported.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pioreactor.plugins_core.hardware_rpi import PIN_DEFAULTS
from pioreactor.sdk import HardwareNotFoundError

if TYPE_CHECKING:
    from pioreactor.sdk import Clock, Config

DEV_DIR = Path("/dev")
DEVICE_TREE_MODEL = Path("/proc/device-tree/model")
PIN_SECTION = "rpi.pins"
I2C_BUS = 1
PICO_ADDRESS = 0x30  # the HAT's Pico answers as both ADC and DAC
TMP1075_ADDRESS = 0x4F
# photodiode channel -> Pico ADC channel (HAT >= 1.1)
ADC_CHANNELS = {"1": 2, "2": 3, "version": 0, "aux": 1}
PICO_ADC_REGISTER_OFFSET = 4
PICO_ADC_FULL_SCALE = 4095 * 16  # 12-bit readings, summed over 16 samples by the Pico
PICO_REFERENCE_VOLTS = 3.3
LED_CHANNELS = {"A": 0, "B": 1, "C": 2, "D": 3}
PWM_HZ_RANGE = (0.1, 10_000.0)  # what lgpio's software PWM accepts
SIMULATOR_HINT = "On a machine without a Pioreactor HAT, set `[hardware] backend = simulator` in config.ini."


# -- pure helpers ----------------------------------------------------------------------------
def find_gpio_chip(dev_dir: Path = DEV_DIR, model_file: Path = DEVICE_TREE_MODEL) -> int:
    """The GPIO chip number of the 40-pin header: 4 on a Raspberry Pi 5 that has it, else 0."""
    candidates = [4, 0] if "Raspberry Pi 5" in read_model(model_file) else [0]
    for number in candidates:
        if (dev_dir / f"gpiochip{number}").exists():
            return number
    looked = " or ".join(str(dev_dir / f"gpiochip{n}") for n in candidates)
    raise HardwareNotFoundError(
        f"the rpi hardware backend found no GPIO chip (looked for {looked}). {SIMULATOR_HINT}"
    )


def read_model(model_file: Path = DEVICE_TREE_MODEL) -> str:
    """The board's model from the device tree, or "" where there is none."""
    try:
        return model_file.read_text(errors="replace").strip("\x00\n ")
    except OSError:
        return ""


def validate_duty_cycle(duty_cycle: float) -> float:
    """The duty cycle as a float; ValueError unless it is between 0 and 100."""
    if not 0.0 <= duty_cycle <= 100.0:  # also rejects NaN
        raise ValueError(f"duty cycle must be between 0 and 100, got {duty_cycle}")
    return float(duty_cycle)


def validate_hz(hz: float) -> float:
    low, high = PWM_HZ_RANGE
    if not low <= hz <= high:
        raise ValueError(f"PWM frequency must be between {low:g} and {high:g} Hz, got {hz}")
    return float(hz)


def pico_adc_volts(data: list[int]) -> float:
    """Volts from the Pico ADC's two bytes (little-endian sum of 16 12-bit samples)."""
    raw = int.from_bytes(bytes(data[:2]), "little")
    return raw / PICO_ADC_FULL_SCALE * PICO_REFERENCE_VOLTS


def pico_dac_value(percent: float) -> int:
    """The byte (0-255) the Pico DAC takes for an LED intensity in percent."""
    if not 0.0 <= percent <= 100.0:
        raise ValueError(f"LED intensity must be between 0 and 100 %, got {percent}")
    return round(percent / 100.0 * 255)


def tmp1075_celsius(data: list[int]) -> float:
    """Degrees Celsius from the TMP1075's temperature register (12 bits, two's complement)."""
    raw = ((data[0] << 8) | data[1]) >> 4
    if raw & 0x800:
        raw -= 0x1000
    return raw * 0.0625


def lookup(mapping: dict[str, int], key: str, what: str) -> int:
    if key not in mapping:
        raise ValueError(f"unknown {what} {key!r} (known: {', '.join(mapping)})")
    return mapping[key]


class EdgeTimes:
    """Edge ticks (nanoseconds, of an origin lgpio leaves unspecified) on the clock's monotonic scale.

    Each edge is reported a little after it happens, so ``now - tick`` over-estimates the offset
    between the two scales by that delay; the smallest offset seen since ``reset`` is the best.
    """

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self._ticks: list[int] = []
        self._offset: float | None = None
        self._lock = threading.Lock()

    def _seconds(self, tick: int) -> float:
        return (tick - self._ticks[0]) / 1e9 * self.speed

    def record(self, tick: int, now: float) -> None:
        """An edge at ``tick``, reported when the clock's ``monotonic()`` read ``now``."""
        with self._lock:
            self._ticks.append(tick)
            offset = now - self._seconds(tick)
            if self._offset is None or offset < self._offset:
                self._offset = offset

    def reset(self) -> None:
        with self._lock:
            self._ticks.clear()
            self._offset = None

    def times(self) -> list[float]:
        with self._lock:
            offset = self._offset
            return [] if offset is None else [offset + self._seconds(t) for t in self._ticks]


def import_driver(name: str) -> Any:
    """Import ``lgpio`` or ``smbus2``, or say clearly that it is missing."""
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise HardwareNotFoundError(
            f"the rpi hardware backend needs the Python package {name!r} ({err}): "
            f"`pip install {name}`. {SIMULATOR_HINT}"
        ) from err


# -- GPIO ------------------------------------------------------------------------------------
class LgpioPwm:
    """Software PWM (lgpio ``tx_pwm``) on one BCM pin."""

    def __init__(self, lgpio: Any, handle: int, pin: int, hz: float, release: Callable[[], None]) -> None:
        self._lgpio = lgpio
        self._handle = handle
        self.pin = pin
        self.hz = validate_hz(hz)
        self._release = release
        self._duty_cycle = 0.0
        self._closed = False
        self._lock = threading.Lock()
        try:
            lgpio.gpio_claim_output(handle, pin, 0)
        except lgpio.error as err:
            raise HardwareNotFoundError(f"could not claim GPIO {pin} for PWM: {err}") from err

    @property
    def duty_cycle(self) -> float:
        return self._duty_cycle

    def set_duty_cycle(self, duty_cycle: float) -> None:
        duty_cycle = validate_duty_cycle(duty_cycle)
        with self._lock:
            if self._closed:
                return
            self._lgpio.tx_pwm(self._handle, self.pin, self.hz, duty_cycle)
            self._duty_cycle = duty_cycle

    def off(self) -> None:
        self.set_duty_cycle(0.0)

    def close(self) -> None:
        """Stop the PWM, drive the pin low and free it; a second call does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._duty_cycle = 0.0
            try:
                self._lgpio.tx_pwm(self._handle, self.pin, 0, 0)
                self._lgpio.gpio_write(self._handle, self.pin, 0)
            finally:
                with suppress(self._lgpio.error):
                    self._lgpio.gpio_free(self._handle, self.pin)
                self._release()


class LgpioEdgeCounter:
    """Falling edges on a pulled-up input (the hall sensor), timed by lgpio's alerts."""

    def __init__(self, lgpio: Any, handle: int, pin: int, clock: Clock, release: Callable[[], None]) -> None:
        self._lgpio = lgpio
        self._handle = handle
        self.pin = pin
        self._clock = clock
        self._release = release
        self._times = EdgeTimes(clock.speed)
        self._closed = False
        try:
            lgpio.gpio_claim_alert(handle, pin, lgpio.FALLING_EDGE, lgpio.SET_PULL_UP)
        except lgpio.error as err:
            raise HardwareNotFoundError(f"could not claim GPIO {pin} for edge alerts: {err}") from err
        self._callback = lgpio.callback(handle, pin, lgpio.FALLING_EDGE, self._on_edge)

    def _on_edge(self, chip: int, gpio: int, level: int, tick: int) -> None:
        if level == 0:  # 2 would be a watchdog timeout, not an edge
            self._times.record(tick, self._clock.monotonic())

    def reset(self) -> None:
        self._times.reset()

    def edges(self) -> list[float]:
        return self._times.times()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._callback.cancel()
        with suppress(self._lgpio.error):
            self._lgpio.gpio_free(self._handle, self.pin)
        self._release()


# -- I2C -------------------------------------------------------------------------------------
class I2cDevice:
    """One device on a shared smbus2 bus; I2C failures become `HardwareNotFoundError`."""

    def __init__(self, bus: Any, lock: threading.Lock, address: int, name: str) -> None:
        self._bus = bus
        self._lock = lock
        self.address = address
        self.name = name

    def _failed(self, err: OSError) -> HardwareNotFoundError:
        return HardwareNotFoundError(
            f"no answer from the {self.name} at I2C address {self.address:#04x} on bus {I2C_BUS}: {err}"
        )

    def read(self, register: int, length: int) -> list[int]:
        try:
            with self._lock:
                return list(self._bus.read_i2c_block_data(self.address, register, length))
        except OSError as err:
            raise self._failed(err) from err

    def write(self, register: int, value: int) -> None:
        try:
            with self._lock:
                self._bus.write_byte_data(self.address, register, value)
        except OSError as err:
            raise self._failed(err) from err


class PicoAdc:
    """The HAT's Pico as ADC: write ``[channel + 4]``, read two bytes."""

    def __init__(self, device: I2cDevice) -> None:
        self.device = device

    def read_voltage(self, channel: str) -> float:
        adc_channel = lookup(ADC_CHANNELS, channel, "ADC channel")
        return pico_adc_volts(self.device.read(adc_channel + PICO_ADC_REGISTER_OFFSET, 2))


class PicoDac:
    """The HAT's Pico as LED driver: write ``[channel, intensity byte]``."""

    def __init__(self, device: I2cDevice) -> None:
        self.device = device

    def set_intensity(self, channel: str, percent: float) -> None:
        self.device.write(lookup(LED_CHANNELS, channel, "LED channel"), pico_dac_value(percent))


class Tmp1075:
    """The TMP1075 temperature sensor on the heating PCB."""

    def __init__(self, device: I2cDevice) -> None:
        self.device = device

    def read_celsius(self) -> float:
        return tmp1075_celsius(self.device.read(0, 2))


# -- the backend -----------------------------------------------------------------------------
class RaspberryPiBackend:
    """The ``rpi`` hardware backend."""

    name = "rpi"

    def __init__(self, config: Config, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.chip = find_gpio_chip(DEV_DIR, DEVICE_TREE_MODEL)
        self._lgpio = import_driver("lgpio")
        try:
            self._handle: int = self._lgpio.gpiochip_open(self.chip)
        except self._lgpio.error as err:
            raise HardwareNotFoundError(
                f"could not open /dev/gpiochip{self.chip}: {err} (is this user in the gpio group?)"
            ) from err
        self._pwms: dict[str, LgpioPwm] = {}
        self._counters: dict[str, LgpioEdgeCounter] = {}
        self._bus: Any = None
        self._i2c_lock = threading.Lock()
        self._lock = threading.Lock()
        self._closed = False
        self._board: Any = None

    def pin(self, name: str) -> int:
        """The BCM pin of ``name`` (``pwm_1``, ``hall_sensor``, ...) from ``[rpi.pins]``."""
        pin = self.config.getint(PIN_SECTION, name, fallback=PIN_DEFAULTS.get(name))
        if pin is None:
            known = sorted({*PIN_DEFAULTS, *self.config.section(PIN_SECTION)})
            raise HardwareNotFoundError(
                f"no pin named {name!r} under [{PIN_SECTION}] (known: {', '.join(known)})"
            )
        return pin

    def _check_open(self) -> None:
        if self._closed:
            raise HardwareNotFoundError("the rpi hardware backend is closed")

    def pwm(self, channel: str, hz: float) -> LgpioPwm:
        self._check_open()
        pin = self.pin(f"pwm_{channel}")
        with self._lock:
            if channel in self._pwms:
                raise HardwareNotFoundError(f"PWM channel {channel} is already in use in this process")
            pwm = LgpioPwm(self._lgpio, self._handle, pin, hz, lambda: self._forget(self._pwms, channel))
            self._pwms[channel] = pwm
        return pwm

    def edge_counter(self, pin: str) -> LgpioEdgeCounter:
        self._check_open()
        number = self.pin(pin)
        with self._lock:
            if pin in self._counters:
                raise HardwareNotFoundError(f"input {pin!r} is already in use in this process")
            counter = LgpioEdgeCounter(
                self._lgpio, self._handle, number, self.clock, lambda: self._forget(self._counters, pin)
            )
            self._counters[pin] = counter
        return counter

    def _forget(self, resources: dict[str, Any], key: str) -> None:
        with self._lock:
            resources.pop(key, None)

    def _device(self, address: int, name: str) -> I2cDevice:
        self._check_open()
        with self._lock:
            if self._bus is None:
                smbus2 = import_driver("smbus2")
                try:
                    self._bus = smbus2.SMBus(I2C_BUS)
                except OSError as err:
                    raise HardwareNotFoundError(
                        f"could not open /dev/i2c-{I2C_BUS}: {err} (enable I2C with raspi-config). {SIMULATOR_HINT}"
                    ) from err
        return I2cDevice(self._bus, self._i2c_lock, address, name)

    def adc(self) -> PicoAdc:
        return PicoAdc(self._device(PICO_ADDRESS, "Pico ADC"))

    def led_driver(self) -> PicoDac:
        return PicoDac(self._device(PICO_ADDRESS, "Pico DAC"))

    def temperature_sensor(self) -> Tmp1075:
        return Tmp1075(self._device(TMP1075_ADDRESS, "TMP1075 temperature sensor"))

    def board(self) -> Any:
        """The HAT, heating PCB, power, status LED and button (see ``board.py``)."""
        from pioreactor.plugins_core.hardware_rpi.board import RpiBoard

        with self._lock:
            if self._board is None:
                self._board = RpiBoard(self)
            return self._board

    def close(self) -> None:
        """Switch every PWM output off and release every pin, the I2C bus and the GPIO chip."""
        if self._closed:
            return
        self._closed = True
        errors: list[Exception] = []
        if self._board is not None:
            self._board.close()
        resources: list[LgpioPwm | LgpioEdgeCounter] = [*self._pwms.values(), *self._counters.values()]
        for resource in resources:
            try:
                resource.close()
            except Exception as err:  # keep closing the others, then report the first failure
                errors.append(err)
        if self._bus is not None:
            with suppress(OSError):
                self._bus.close()
            self._bus = None
        with suppress(self._lgpio.error):
            self._lgpio.gpiochip_close(self._handle)
        if errors:
            raise errors[0]

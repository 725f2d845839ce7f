"""The Raspberry Pi backend, without a Raspberry Pi: its pure helpers, and lgpio/smbus2 faked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pioreactor.kernel.clock import Clock
from pioreactor.kernel.config import load_config
from pioreactor.kernel.errors import HardwareNotFoundError
from pioreactor.plugins_core.hardware_rpi import backend as rpi
from pioreactor.sdk.hardware import Adc, EdgeCounter, HardwareBackend, LedDriver, PwmOutput, TemperatureSensor


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PIO_HOME", str(tmp_path / "pio_home"))
    return load_config()


# -- no GPIO chip here -----------------------------------------------------------------------
@pytest.mark.skipif(Path("/dev/gpiochip0").exists(), reason="this machine has a GPIO chip")
def test_without_a_gpio_chip_the_backend_says_what_it_looked_for(config: Any) -> None:
    with pytest.raises(HardwareNotFoundError) as caught:
        rpi.RaspberryPiBackend(config, Clock())
    assert "/dev/gpiochip0" in str(caught.value)
    assert "backend = simulator" in str(caught.value)


def test_importing_the_backend_imports_neither_lgpio_nor_smbus2(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import pioreactor.plugins_core.hardware_rpi.backend\n"
        "print(sorted({'lgpio', '_lgpio', 'smbus2'} & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- finding the chip ------------------------------------------------------------------------
def fake_board(tmp_path: Path, model: str, chips: list[int]) -> tuple[Path, Path]:
    dev = tmp_path / "dev"
    dev.mkdir()
    for number in chips:
        (dev / f"gpiochip{number}").touch()
    model_file = tmp_path / "model"
    model_file.write_text(model + "\x00")
    return dev, model_file


@pytest.mark.parametrize(
    ("model", "chips", "expected"),
    [
        ("Raspberry Pi 5 Model B Rev 1.0", [0, 4], 4),
        ("Raspberry Pi 5 Model B Rev 1.0", [0], 0),  # newer Pi 5 kernels number the header's chip 0
        ("Raspberry Pi 4 Model B Rev 1.4", [0, 4], 0),
        ("Raspberry Pi 3 Model B Plus Rev 1.3", [0], 0),
    ],
)
def test_gpio_chip_choice(tmp_path: Path, model: str, chips: list[int], expected: int) -> None:
    dev, model_file = fake_board(tmp_path, model, chips)
    assert rpi.find_gpio_chip(dev, model_file) == expected


def test_missing_chip_on_a_pi5_names_both_devices(tmp_path: Path) -> None:
    dev, model_file = fake_board(tmp_path, "Raspberry Pi 5 Model B", [])
    with pytest.raises(HardwareNotFoundError, match="gpiochip4 or .*gpiochip0"):
        rpi.find_gpio_chip(dev, model_file)


def test_missing_model_file_means_not_a_pi5(tmp_path: Path) -> None:
    assert rpi.read_model(tmp_path / "absent") == ""


# -- conversions and validation --------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "celsius"),
    [
        ([0x19, 0x00], 25.0),
        ([0x7F, 0xF0], 127.9375),
        ([0x00, 0x10], 0.0625),
        ([0x00, 0x00], 0.0),
        ([0xFF, 0xF0], -0.0625),
        ([0xE7, 0x00], -25.0),
        ([0x80, 0x00], -128.0),
    ],
)
def test_tmp1075_conversion(data: list[int], celsius: float) -> None:
    assert rpi.tmp1075_celsius(data) == celsius


def test_pico_adc_conversion() -> None:
    assert rpi.pico_adc_volts([0, 0]) == 0.0
    full_scale = (4095 * 16).to_bytes(2, "little")
    assert rpi.pico_adc_volts(list(full_scale)) == pytest.approx(3.3)
    assert rpi.pico_adc_volts([0x34, 0x12]) == pytest.approx(0x1234 / 4095 / 16 * 3.3)


@pytest.mark.parametrize(("percent", "byte"), [(0, 0), (100, 255), (50, 128), (10.0, 26)])
def test_pico_dac_value(percent: float, byte: int) -> None:
    assert rpi.pico_dac_value(percent) == byte


@pytest.mark.parametrize("bad", [-0.1, 100.5, float("nan")])
def test_out_of_range_values_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match=str(bad)):
        rpi.validate_duty_cycle(bad)
    with pytest.raises(ValueError, match=str(bad)):
        rpi.pico_dac_value(bad)


def test_duty_cycle_bounds_are_accepted() -> None:
    assert rpi.validate_duty_cycle(0) == 0.0
    assert rpi.validate_duty_cycle(100) == 100.0


def test_edge_times_keep_tick_spacing_on_the_clock_scale() -> None:
    times = rpi.EdgeTimes()
    # edges 0.1 s apart, each reported 1-3 ms late on a clock that reads 50 s at the first
    times.record(7_000_000_000, 50.003)
    times.record(7_100_000_000, 50.101)
    times.record(7_200_000_000, 50.202)
    assert times.times() == pytest.approx([50.001, 50.101, 50.201])
    times.reset()
    assert times.times() == []


# -- the backend with lgpio and smbus2 faked -------------------------------------------------
class FakeLgpio:
    """Records the calls the backend makes; the constants are lgpio's."""

    FALLING_EDGE = 2
    SET_PULL_UP = 32

    class error(Exception):
        pass

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.callbacks: list[FakeCallback] = []

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any) -> int:
            self.calls.append((name, *args))
            return 7 if name == "gpiochip_open" else 0

        return record

    def callback(self, handle: int, gpio: int, edge: int, func: Any) -> FakeCallback:
        self.calls.append(("callback", handle, gpio, edge))
        self.callbacks.append(FakeCallback(func))
        return self.callbacks[-1]


class FakeCallback:
    def __init__(self, func: Any) -> None:
        self.func = func
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeBus:
    def __init__(self, bus: int) -> None:
        self.bus = bus
        self.writes: list[tuple[int, int, int]] = []
        self.reads: list[tuple[int, int, int]] = []
        self.answers: dict[tuple[int, int], list[int]] = {}
        self.closed = False

    def read_i2c_block_data(self, address: int, register: int, length: int) -> list[int]:
        self.reads.append((address, register, length))
        return self.answers.get((address, register), [0] * length)

    def write_byte_data(self, address: int, register: int, value: int) -> None:
        self.writes.append((address, register, value))

    def close(self) -> None:
        self.closed = True


class FakeSmbus2:
    def __init__(self) -> None:
        self.buses: list[FakeBus] = []

    def SMBus(self, bus: int) -> FakeBus:  # noqa: N802 (smbus2's name)
        self.buses.append(FakeBus(bus))
        return self.buses[-1]


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[FakeLgpio, FakeSmbus2]:
    dev, model_file = fake_board(tmp_path, "Raspberry Pi 4 Model B Rev 1.4", [0])
    monkeypatch.setattr(rpi, "DEV_DIR", dev)
    monkeypatch.setattr(rpi, "DEVICE_TREE_MODEL", model_file)
    lgpio, smbus2 = FakeLgpio(), FakeSmbus2()
    monkeypatch.setitem(sys.modules, "lgpio", lgpio)
    monkeypatch.setitem(sys.modules, "smbus2", smbus2)
    return lgpio, smbus2


def test_backend_meets_the_protocols(config: Any, fakes: tuple[FakeLgpio, FakeSmbus2]) -> None:
    backend = rpi.RaspberryPiBackend(config, Clock())
    assert isinstance(backend, HardwareBackend)
    assert isinstance(backend.pwm("1", 200), PwmOutput)
    assert isinstance(backend.edge_counter("hall_sensor"), EdgeCounter)
    assert isinstance(backend.adc(), Adc)
    assert isinstance(backend.led_driver(), LedDriver)
    assert isinstance(backend.temperature_sensor(), TemperatureSensor)
    backend.close()


def test_pwm_drives_the_channels_pin(config: Any, fakes: tuple[FakeLgpio, FakeSmbus2]) -> None:
    lgpio, _ = fakes
    backend = rpi.RaspberryPiBackend(config, Clock())
    assert ("gpiochip_open", 0) in lgpio.calls
    pwm = backend.pwm("2", 200)
    pwm.set_duty_cycle(42.5)
    assert pwm.duty_cycle == 42.5
    assert ("gpio_claim_output", 7, 13, 0) in lgpio.calls
    assert ("tx_pwm", 7, 13, 200.0, 42.5) in lgpio.calls
    with pytest.raises(ValueError, match="101"):
        pwm.set_duty_cycle(101)
    with pytest.raises(HardwareNotFoundError, match="already in use"):
        backend.pwm("2", 200)
    pwm.off()
    assert pwm.duty_cycle == 0.0
    pwm.close()
    pwm.close()
    assert [c for c in lgpio.calls if c[0] == "gpio_free"] == [("gpio_free", 7, 13)]
    calls = len(lgpio.calls)
    pwm.set_duty_cycle(50)  # after close: a no-op
    assert len(lgpio.calls) == calls and pwm.duty_cycle == 0.0
    backend.pwm("2", 200).close()  # the channel is free again


def test_pins_come_from_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fakes: Any) -> None:
    monkeypatch.setenv("PIO_HOME", str(tmp_path / "pio_home"))
    config = load_config(overrides=[("rpi.pins", "pwm_1", "6"), ("rpi.pins", "hall_sensor", "25")])
    backend = rpi.RaspberryPiBackend(config, Clock())
    assert backend.pin("pwm_1") == 6
    assert backend.pin("hall_sensor") == 25
    assert backend.pin("pwm_5") == 18
    with pytest.raises(HardwareNotFoundError, match="pwm_9"):
        backend.pwm("9", 200)
    backend.close()


def test_edge_counter(config: Any, fakes: tuple[FakeLgpio, FakeSmbus2]) -> None:
    lgpio, _ = fakes
    backend = rpi.RaspberryPiBackend(config, Clock())
    counter = backend.edge_counter("hall_sensor")
    assert ("gpio_claim_alert", 7, 21, lgpio.FALLING_EDGE, lgpio.SET_PULL_UP) in lgpio.calls
    on_edge = lgpio.callbacks[0].func
    for tick in (1_000_000_000, 1_050_000_000, 1_100_000_000):
        on_edge(0, 21, 0, tick)
    on_edge(0, 21, 2, 1_200_000_000)  # a watchdog timeout is no edge
    edges = counter.edges()
    assert len(edges) == 3
    assert edges[2] - edges[0] == pytest.approx(0.1)
    counter.reset()
    assert counter.edges() == []
    backend.close()
    assert lgpio.callbacks[0].cancelled
    assert ("gpio_free", 7, 21) in lgpio.calls


def test_i2c_devices(config: Any, fakes: tuple[FakeLgpio, FakeSmbus2]) -> None:
    _, smbus2 = fakes
    backend = rpi.RaspberryPiBackend(config, Clock())
    adc, leds, thermometer = backend.adc(), backend.led_driver(), backend.temperature_sensor()
    bus = smbus2.buses[0]
    assert len(smbus2.buses) == 1 and bus.bus == 1
    bus.answers[(0x30, 2 + 4)] = list((4095 * 8).to_bytes(2, "little"))
    bus.answers[(0x4F, 0)] = [0x19, 0x80]
    assert adc.read_voltage("1") == pytest.approx(1.65)
    adc.read_voltage("aux")
    adc.read_voltage("version")
    assert [r[1] for r in bus.reads[:3]] == [6, 5, 4]
    with pytest.raises(ValueError, match="'3'"):
        adc.read_voltage("3")
    leds.set_intensity("C", 100)
    assert bus.writes == [(0x30, 2, 255)]
    with pytest.raises(ValueError):
        leds.set_intensity("E", 10)
    assert thermometer.read_celsius() == 25.5
    backend.close()
    backend.close()
    assert bus.closed


def test_close_switches_outputs_off(config: Any, fakes: tuple[FakeLgpio, FakeSmbus2]) -> None:
    lgpio, _ = fakes
    backend = rpi.RaspberryPiBackend(config, Clock())
    backend.pwm("5", 100).set_duty_cycle(80)
    backend.close()
    assert ("gpio_write", 7, 18, 0) in lgpio.calls
    assert ("gpiochip_close", 7) in lgpio.calls
    with pytest.raises(HardwareNotFoundError, match="closed"):
        backend.pwm("1", 100)


def test_missing_driver_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lgpio", None)  # makes `import lgpio` raise ImportError
    with pytest.raises(HardwareNotFoundError, match="pip install lgpio"):
        rpi.import_driver("lgpio")


def test_throttling_flags_are_read_as_problems_now() -> None:
    from pioreactor.plugins_core.hardware_rpi.board import parse_throttled

    assert parse_throttled("throttled=0x0") == []
    # 0x50005: under-voltage and throttled now (bits 16 and 18 say "since boot")
    assert parse_throttled("throttled=0x50005\n") == ["under-voltage", "throttled"]

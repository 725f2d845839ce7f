"""Hardware interfaces (protocols, not drivers) and the choice of backend.

Backends are plugins (``pioreactor_register_hardware_backends``): ``rpi`` drives a real HAT
through lgpio and smbus2, ``simulator`` is a virtual bioreactor. ``[hardware] backend`` picks
one; ``auto`` picks ``rpi`` where a Raspberry Pi GPIO chip exists and ``simulator`` elsewhere.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol, runtime_checkable

from pioreactor.kernel.clock import get_clock
from pioreactor.kernel.config import get_config
from pioreactor.kernel.errors import ConfigError

log = logging.getLogger("pioreactor.hardware")

GPIO_CHIPS = (Path("/dev/gpiochip0"), Path("/dev/gpiochip4"))
DEVICE_TREE_MODEL = Path("/proc/device-tree/model")


@runtime_checkable
class PwmOutput(Protocol):
    """A PWM output (stirring motor, pumps, heater), duty cycle in percent."""

    @property
    def duty_cycle(self) -> float: ...

    def set_duty_cycle(self, duty_cycle: float) -> None:
        """Set the duty cycle, 0 to 100."""

    def off(self) -> None:
        """Duty cycle 0: the safe state."""

    def close(self) -> None:
        """Switch off and release the output."""


@runtime_checkable
class EdgeCounter(Protocol):
    """A GPIO input that records falling edges (the stirring hall sensor)."""

    def reset(self) -> None:
        """Forget the edges seen so far."""

    def edges(self) -> list[float]:
        """Times of the falling edges since the last reset, in seconds of ``Clock.monotonic()``."""

    def close(self) -> None: ...


@runtime_checkable
class Adc(Protocol):
    def read_voltage(self, channel: str) -> float:
        """Volts on an ADC channel (``"1"``, ``"2"``, ..., ``"aux"``)."""


@runtime_checkable
class LedDriver(Protocol):
    def set_intensity(self, channel: str, percent: float) -> None:
        """Set LED channel ``A``-``D`` to 0-100 %."""


@runtime_checkable
class TemperatureSensor(Protocol):
    def read_celsius(self) -> float: ...


@runtime_checkable
class Board(Protocol):
    """What a unit knows about its own health, and its status LED and button. A backend offers
    it through an optional ``board()`` method; a method answers None where the hardware has no
    such thing (no HAT button, no voltage sense)."""

    def hat_present(self) -> bool | None:
        """The HAT answers (on a Pioreactor: its Pico on I2C)."""

    def heating_pcb_present(self) -> bool | None:
        """The heating PCB's temperature sensor answers."""

    def pwm_rail_volts(self) -> float | None:
        """Volts on the rail that powers the PWM outputs (about 5 V from the Pi, or AUX)."""

    def cpu_temperature_celsius(self) -> float | None: ...

    def power_problems(self) -> list[str] | None:
        """What the computer reports now, e.g. ``["under-voltage", "throttled"]``; [] when fine."""

    def set_status_led(self, on: bool) -> None:
        """The PCB's status LED (the monitor blinks error codes on it)."""

    def button_pressed(self) -> bool | None:
        """Whether the HAT's button is held down now."""

    def power(self, action: str) -> str:
        """``"reboot"`` or ``"shutdown"`` the unit (``pios reboot``, the UI's buttons); what was
        done, in words. A simulated board must leave the machine alone."""


@runtime_checkable
class HardwareBackend(Protocol):
    """What a backend plugin's factory returns."""

    name: str

    def pwm(self, channel: str, hz: float) -> PwmOutput:
        """The PWM output on channel ``"1"``-``"5"`` of the HAT."""

    def edge_counter(self, pin: str) -> EdgeCounter:
        """An edge counter on a named input, e.g. ``"hall_sensor"``."""

    def adc(self) -> Adc: ...

    def led_driver(self) -> LedDriver: ...

    def temperature_sensor(self) -> TemperatureSensor: ...

    def close(self) -> None:
        """Release everything (outputs off)."""


def pwm_channel_for(device: str) -> str:
    """The PWM channel (``"1"``-``"5"``) that ``[PWM]`` in config assigns to ``device``."""
    mapping = get_config().section("PWM")
    for channel, name in mapping.items():
        if name == device:
            return channel
    raise ConfigError(
        f"no PWM channel is assigned to {device!r}: add a line like `1={device}` under [PWM] in config.ini "
        f"(now: {', '.join(f'{k}={v}' for k, v in mapping.items()) or 'empty'})"
    )


def device_on_pwm_channel(channel: str) -> str:
    return get_config().section("PWM").get(channel, "")


def is_raspberry_pi() -> bool:
    """A GPIO chip is present and the device tree says Raspberry Pi."""
    if not any(chip.exists() for chip in GPIO_CHIPS):
        return False
    try:
        return "Raspberry Pi" in DEVICE_TREE_MODEL.read_text(errors="replace")
    except OSError:
        return False


def chosen_backend_name() -> str:
    name = get_config().get("hardware", "backend").strip() or "auto"
    if name != "auto":
        return name
    chosen = "rpi" if is_raspberry_pi() else "simulator"
    _say_once(chosen)
    return chosen


def _say_once(chosen: str) -> None:
    from pioreactor.kernel.storage import local_intermittent_storage

    with local_intermittent_storage("hardware") as store:
        first_time = store.get("announced_backend") != chosen
        store["announced_backend"] = chosen
    if chosen == "simulator":
        message = "No Raspberry Pi GPIO chip found: using the simulator backend ([hardware] backend = auto)."
    else:
        message = "Raspberry Pi GPIO chip found: using the rpi hardware backend ([hardware] backend = auto)."
    log.log(logging.INFO if first_time else logging.DEBUG, message)


_backend: HardwareBackend | None = None


def get_hardware() -> HardwareBackend:
    """This process's hardware backend, created on first use."""
    global _backend
    if _backend is None:
        from pioreactor.kernel.plugins import get_plugin_host
        from pioreactor.kernel.registries.targets import HardwareBackendRegistry

        name = chosen_backend_name()
        registry = get_plugin_host().registry(HardwareBackendRegistry)
        if name not in registry:
            raise ConfigError(
                f"[hardware] backend = {name!r} is not a registered backend "
                f"(registered: {', '.join(registry.names()) or 'none'}). Fix [hardware] backend in config.ini."
            )
        factory = registry.get(name).load()
        from pioreactor.kernel.supervised_hardware import SupervisedBackend

        # every output change is recorded with the job that made it (see outputs.py)
        _backend = SupervisedBackend(factory(get_config(), get_clock()))
    return _backend


def close_hardware() -> None:
    global _backend
    if _backend is not None:
        try:
            _backend.close()
        finally:
            _backend = None

"""``pioreactor.hardware``: upstream's HAT pin map and device probes.

Upstream plugins turn a PWM channel into a GPIO pin with ``get_pwm_to_pin_map()`` and hand
the pin to ``pioreactor.utils.pwm.PWM``, which maps it back to the channel and drives it
through this unit's hardware backend (the Raspberry Pi, or the simulator).
"""

from __future__ import annotations

import warnings
from typing import Any

# HAT channel -> GPIO pin (BCM numbering), as on upstream's HAT
PWM_TO_PIN_MAP: dict[str, int] = {"1": 17, "2": 13, "3": 16, "4": 12, "5": 18}
HEATER_PWM_CHANNEL = "5"
SCL_PIN, SDA_PIN = 3, 2
HALL_SENSOR_PIN = 25
PCB_LED_PIN = 23
PCB_BUTTON_PIN = 24
TEMP_ADDRESS = 0x4F
ADC_ADDRESS = 0x30
DAC_ADDRESS = 0x49
GPIOCHIP = 0


def get_pwm_to_pin_map() -> dict[str, int]:
    return dict(PWM_TO_PIN_MAP)


def channel_of_pin(pin: int | str) -> str:
    """The HAT channel (``"1"``..``"5"``) of a GPIO pin, or of a channel given as such."""
    text = str(pin)
    for channel, gpio in PWM_TO_PIN_MAP.items():
        if str(gpio) == text:
            return channel
    if text in PWM_TO_PIN_MAP:
        return text
    raise ValueError(
        f"GPIO pin {pin!r} is not one of the HAT's PWM pins ({', '.join(f'{c}: {p}' for c, p in PWM_TO_PIN_MAP.items())})"
    )


def get_heater_pwm_channel() -> str:
    return HEATER_PWM_CHANNEL


def get_scl_pin() -> int:
    return SCL_PIN


def get_sda_pin() -> int:
    return SDA_PIN


def get_temp_address() -> int:
    return TEMP_ADDRESS


def get_adc_address() -> int:
    return ADC_ADDRESS


def is_i2c_device_present(address: int, bus: int = 1) -> bool:
    """True if something answers on I2C ``address`` (always False without an I2C bus)."""
    try:
        from smbus2 import SMBus

        with SMBus(bus) as i2c:
            i2c.read_byte(address)
        return True
    except Exception:
        return False


def is_heating_pcb_present() -> bool:
    from pioreactor.sdk.hardware import is_raspberry_pi

    return is_i2c_device_present(TEMP_ADDRESS) if is_raspberry_pi() else True


def is_HAT_present() -> bool:  # noqa: N802 (upstream's spelling)
    from pioreactor.sdk.hardware import is_raspberry_pi

    return is_i2c_device_present(ADC_ADDRESS) if is_raspberry_pi() else True


def __getattr__(name: str) -> Any:
    # upstream turned these constants into deprecated lazy attributes; old plugins still read them
    deprecated = {"PWM_TO_PIN": get_pwm_to_pin_map, "SCL": get_scl_pin, "SDA": get_sda_pin}
    if name in deprecated:
        warnings.warn(
            f"pioreactor.hardware.{name} is deprecated upstream; call its get_* function",
            DeprecationWarning,
            stacklevel=2,
        )
        return deprecated[name]()
    raise AttributeError(f"module 'pioreactor.hardware' has no attribute {name!r}")

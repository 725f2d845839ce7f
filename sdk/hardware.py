"""Hardware interfaces for jobs and for backend plugins (the simulator, the Raspberry Pi).

A job asks ``get_hardware()`` for outputs and sensors and ``hold()``s them, so they are
switched off when it ends. A backend plugin returns an object implementing ``HardwareBackend``.
"""

from pioreactor.kernel.hardware import (
    Adc,
    EdgeCounter,
    HardwareBackend,
    LedDriver,
    PwmOutput,
    TemperatureSensor,
    device_on_pwm_channel,
    get_hardware,
    is_raspberry_pi,
    pwm_channel_for,
)

__all__ = [
    "Adc",
    "EdgeCounter",
    "HardwareBackend",
    "LedDriver",
    "PwmOutput",
    "TemperatureSensor",
    "device_on_pwm_channel",
    "get_hardware",
    "is_raspberry_pi",
    "pwm_channel_for",
]

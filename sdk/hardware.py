"""Hardware interfaces for jobs and for backend plugins (the simulator, the Raspberry Pi).

A job asks ``get_hardware()`` for outputs and sensors and ``hold()``s them, so they are
switched off when it ends. A backend plugin returns an object implementing ``HardwareBackend``.

Every PWM and LED change made through ``get_hardware()`` is recorded with the job that made it;
``all_outputs()`` and ``orphaned_outputs()`` read that record, and ``switch_off_orphan()``
switches off what a dead job left on (the monitor's duty).
"""

from pioreactor.kernel.hardware import (
    Adc,
    Board,
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
from pioreactor.kernel.outputs import OutputRecord
from pioreactor.kernel.outputs import all_outputs as all_outputs
from pioreactor.kernel.outputs import holders as output_holders
from pioreactor.kernel.outputs import on_behalf_of as on_behalf_of
from pioreactor.kernel.outputs import orphans as orphaned_outputs
from pioreactor.kernel.supervised_hardware import publish_pwm_state, switch_off_orphan

__all__ = [
    "Adc",
    "Board",
    "EdgeCounter",
    "HardwareBackend",
    "LedDriver",
    "PwmOutput",
    "OutputRecord",
    "TemperatureSensor",
    "all_outputs",
    "device_on_pwm_channel",
    "get_hardware",
    "is_raspberry_pi",
    "on_behalf_of",
    "output_holders",
    "orphaned_outputs",
    "publish_pwm_state",
    "switch_off_orphan",
    "pwm_channel_for",
]

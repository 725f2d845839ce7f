"""The monitor's message structs."""

from __future__ import annotations

import msgspec
from pioreactor.sdk.structs import Timestamp


class Voltage(msgspec.Struct):
    """``monitor/voltage_on_pwm_rail``: the PWM rail's volts, as upstream publishes them."""

    timestamp: Timestamp
    voltage: float

"""The LED plugin's public API: set, lock and restore the LEDs (channels A-D), and the base of
LED automations.

    from pioreactor.plugins_core.leds.api import set_intensities

    set_intensities({"A": 20.0}, source_of_event="my_job")

Every process of the unit shares the LEDs' state; a channel locked by a running process (as
od_reading locks its IR LED) is left alone by the others.
"""

from __future__ import annotations

from pioreactor.plugins_core.leds.automation import LEDAutomationJob
from pioreactor.plugins_core.leds.intensities import (
    DEFAULT_LOCK_WAIT_SECONDS,
    LED_CHANNELS,
    current_intensities,
    locked,
    locked_channels,
    set_intensities,
    temporarily,
)
from pioreactor.plugins_core.leds.records import led_change_event
from pioreactor.plugins_core.leds.structs import LEDChangeEvent, LEDsIntensity

__all__ = [
    "DEFAULT_LOCK_WAIT_SECONDS",
    "LEDAutomationJob",
    "LEDChangeEvent",
    "LED_CHANNELS",
    "LEDsIntensity",
    "current_intensities",
    "led_change_event",
    "locked",
    "locked_channels",
    "set_intensities",
    "temporarily",
]

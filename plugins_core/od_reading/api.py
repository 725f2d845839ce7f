"""The OD-reading plugin's public API: the job, its photodiode channels, and dodging its readings.

    from pioreactor.plugins_core.od_reading.api import ODDodger

``ODDodger`` pauses an output (stirring, air bubbles, a light) around each OD reading, following
the running ``od_reading`` job's schedule.
"""

from __future__ import annotations

from pioreactor.plugins_core.od_reading.dodging import ODDodger
from pioreactor.plugins_core.od_reading.job import CHANNEL_SECTION, ODReader, channel_angles
from pioreactor.plugins_core.od_reading.records import ir_led_intensity, od_blank, od_reading, raw_od_reading
from pioreactor.plugins_core.od_reading.structs import (
    CalibratedODReading,
    ODReading,
    ODReadings,
    RelativeIntensityOfIrLed,
)

__all__ = [
    "CHANNEL_SECTION",
    "CalibratedODReading",
    "ODDodger",
    "ODReader",
    "ODReading",
    "ODReadings",
    "RelativeIntensityOfIrLed",
    "channel_angles",
    "ir_led_intensity",
    "od_blank",
    "od_reading",
    "raw_od_reading",
]

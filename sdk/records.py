"""Database rows from the messages of :mod:`pioreactor.sdk.structs`: the parsers of the core MQTT sinks.

A sink parser is called as ``parser(topic, payload)`` and returns a row (column -> value), a list
of rows, or None. Every row here starts with ``experiment`` and ``pioreactor_unit`` (from the
topic ``pioreactor/<unit>/<experiment>/...``) and a ``timestamp`` in the canonical UTC form of
:func:`pioreactor.sdk.database.canonical_timestamp`, so rows sort in time order as text.
Column names follow upstream's tables, which scientists' notebooks read.

A plugin with its own messages writes its own parser the same way::

    def parse_ph(topic, payload):
        unit, experiment = topic_unit_and_experiment(topic)
        reading = decode(payload, PhReading)
        return {"experiment": experiment, "pioreactor_unit": unit,
                "timestamp": canonical_timestamp(reading.timestamp), "ph": reading.ph}
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import msgspec
from pioreactor.sdk.database import canonical_timestamp, topic_unit_and_experiment, utc_now_timestamp
from pioreactor.sdk.structs import (
    DosingEvent,
    GrowthRate,
    KalmanFilterOutput,
    LEDChangeEvent,
    MeasuredRPM,
    ODFiltered,
    RelativeIntensityOfIrLed,
    Temperature,
)

Row = dict[str, Any]


class _ODRecord(msgspec.Struct):
    """An OD reading as od_reading publishes it (``od1``..., ``raw_od1``..., ``od_blank/mean/<ch>``)."""

    timestamp: datetime
    angle: str
    od: float
    channel: str
    calibrated: int = 0


class _LogRecord(msgspec.Struct):
    message: str
    level: str
    task: str
    timestamp: str
    source: str = "app"


class _AutomationEventRecord(msgspec.Struct):
    event_name: str
    message: str | None = None
    data: Any = None


_od = msgspec.json.Decoder(_ODRecord)
_growth_rate = msgspec.json.Decoder(GrowthRate)
_od_filtered = msgspec.json.Decoder(ODFiltered)
_kalman = msgspec.json.Decoder(KalmanFilterOutput)
_temperature = msgspec.json.Decoder(Temperature)
_rpm = msgspec.json.Decoder(MeasuredRPM)
_led_change = msgspec.json.Decoder(LEDChangeEvent)
_dosing = msgspec.json.Decoder(DosingEvent)
_log = msgspec.json.Decoder(_LogRecord)
_automation_event = msgspec.json.Decoder(_AutomationEventRecord)
_relative_ir = msgspec.json.Decoder(RelativeIntensityOfIrLed)


def _start(topic: str, timestamp: datetime | str) -> Row:
    unit, experiment = topic_unit_and_experiment(topic)
    return {"experiment": experiment, "pioreactor_unit": unit, "timestamp": canonical_timestamp(timestamp)}


def od_reading(topic: str, payload: bytes) -> Row:
    """``od_reading/od<N>`` -> ``od_readings``: od_reading, angle, channel, calibrated (0 or 1)."""
    r = _od.decode(payload)
    row = _start(topic, r.timestamp)
    row.update(od_reading=r.od, angle=int(r.angle), channel=int(r.channel), calibrated=r.calibrated)
    return row


def raw_od_reading(topic: str, payload: bytes) -> Row:
    """``od_reading/raw_od<N>`` -> ``raw_od_readings`` (the signal before any OD calibration)."""
    r = _od.decode(payload)
    row = _start(topic, r.timestamp)
    row.update(od_reading=r.od, angle=int(r.angle), channel=int(r.channel))
    return row


def od_blank(topic: str, payload: bytes) -> Row:
    """``od_blank/mean/<channel>`` -> ``od_blanks``."""
    r = _od.decode(payload)
    row = _start(topic, r.timestamp)
    row.update(od_reading=r.od, angle=int(r.angle), channel=int(r.channel))
    return row


def growth_rate(topic: str, payload: bytes) -> Row:
    """``growth_rate_calculating/growth_rate`` -> ``growth_rates``: rate (per hour)."""
    r = _growth_rate.decode(payload)
    row = _start(topic, r.timestamp)
    row["rate"] = r.growth_rate
    return row


def od_filtered(topic: str, payload: bytes) -> Row:
    """``growth_rate_calculating/od_filtered`` -> ``od_readings_filtered``: normalized_od_reading."""
    r = _od_filtered.decode(payload)
    row = _start(topic, r.timestamp)
    row["normalized_od_reading"] = r.od_filtered
    return row


def kalman_filter_output(topic: str, payload: bytes) -> Row:
    """``growth_rate_calculating/kalman_filter_outputs`` -> ``kalman_filter_outputs``:
    state_0..state_2 and the upper triangle of the covariance, cov_00 ... cov_22."""
    r = _kalman.decode(payload)
    row = _start(topic, r.timestamp)
    for i in range(3):
        row[f"state_{i}"] = r.state[i] if i < len(r.state) else None
    for i in range(3):
        for j in range(i, 3):
            inside = i < len(r.covariance_matrix) and j < len(r.covariance_matrix[i])
            row[f"cov_{i}{j}"] = r.covariance_matrix[i][j] if inside else None
    return row


def temperature(topic: str, payload: bytes) -> Row:
    """``temperature_automation/temperature`` -> ``temperature_readings``: temperature_c."""
    r = _temperature.decode(payload)
    row = _start(topic, r.timestamp)
    row["temperature_c"] = r.temperature
    return row


def measured_rpm(topic: str, payload: bytes) -> Row:
    """``stirring/measured_rpm`` -> ``stirring_rates``: measured_rpm."""
    r = _rpm.decode(payload)
    row = _start(topic, r.timestamp)
    row["measured_rpm"] = r.measured_rpm
    return row


def led_change_event(topic: str, payload: bytes) -> Row:
    """``led_change_events`` -> ``led_change_events``: channel, intensity, source_of_event."""
    r = _led_change.decode(payload)
    row = _start(topic, r.timestamp)
    row.update(channel=r.channel, intensity=r.intensity, source_of_event=r.source_of_event)
    return row


def dosing_event(topic: str, payload: bytes) -> Row:
    """``dosing_events`` -> ``dosing_events``: volume_change_ml, event, source_of_event."""
    r = _dosing.decode(payload)
    row = _start(topic, r.timestamp)
    row.update(volume_change_ml=r.volume_change, event=r.event, source_of_event=r.source_of_event)
    return row


def log(topic: str, payload: bytes) -> Row:
    """``logs/<source>/<level>`` -> ``logs``: message, task, level, source."""
    r = _log.decode(payload)
    row = _start(topic, r.timestamp)
    row.update(message=r.message, task=r.task, level=r.level.upper(), source=r.source)
    return row


def unit_label(topic: str, payload: bytes) -> Row | None:
    """``<unit>/<experiment>/unit_label`` -> ``pioreactor_unit_labels``: label, created_at (on receipt)."""
    unit, experiment = topic_unit_and_experiment(topic)
    label = payload.decode("utf-8").strip()
    if not label:
        return None
    return {"experiment": experiment, "pioreactor_unit": unit, "label": label, "created_at": utc_now_timestamp()}


def ir_led_intensity(topic: str, payload: bytes) -> Row:
    """``od_reading/relative_intensity_of_ir_led`` -> ``ir_led_intensities``: relative_intensity."""
    r = _relative_ir.decode(payload)
    row = _start(topic, r.timestamp)
    row["relative_intensity"] = r.relative_intensity_of_ir_led
    return row


class _AutomationSettingsRecord(msgspec.Struct):
    pioreactor_unit: str
    experiment: str
    started_at: datetime
    automation_name: str
    settings: str
    ended_at: datetime | None = None


_automation_settings = msgspec.json.Decoder(_AutomationSettingsRecord)


def automation_settings(topic: str, payload: bytes) -> Row:
    """``<kind>_automation/<kind>_automation_settings`` -> ``<kind>_automation_settings``: one row per
    run and settings (started_at, ended_at, automation_name, settings as upstream's base64 JSON)."""
    r = _automation_settings.decode(payload)
    unit, experiment = topic_unit_and_experiment(topic)
    return {
        "pioreactor_unit": unit,
        "experiment": experiment,
        "started_at": canonical_timestamp(r.started_at),
        "ended_at": canonical_timestamp(r.ended_at) if r.ended_at is not None else None,
        "automation_name": r.automation_name,
        "settings": r.settings,
    }


def automation_event(topic: str, payload: bytes) -> Row:
    """``<kind>_automation/latest_event`` -> ``<kind>_automation_events``: event_name, message,
    data (JSON text). The payload has no timestamp: the row gets the time it was received."""
    r = _automation_event.decode(payload)
    row = _start(topic, utc_now_timestamp())
    row.update(
        event_name=r.event_name,
        message=r.message,
        data=json.dumps(r.data, sort_keys=True) if r.data is not None else None,
    )
    return row


def _number(payload: bytes) -> float:
    value = float(payload)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"not a finite number: {payload[:40]!r}")
    return value


def liquid_volume(topic: str, payload: bytes) -> Row:
    """``dosing_automation/current_volume_ml`` -> ``liquid_volumes``: liquid_volume (mL), stamped on receipt."""
    row = _start(topic, utc_now_timestamp())
    row["liquid_volume"] = _number(payload)
    return row


def alt_media_fraction(topic: str, payload: bytes) -> Row:
    """``dosing_automation/alt_media_fraction`` -> ``alt_media_fractions``, stamped on receipt."""
    row = _start(topic, utc_now_timestamp())
    row["alt_media_fraction"] = _number(payload)
    return row

"""Turning MQTT messages into rows of the {{ cookiecutter.underscored }}_duty_cycles table (imported by mqtt_to_db_streaming only)."""

from __future__ import annotations

from typing import Any

from pioreactor.sdk.database import topic_unit_and_experiment, utc_now_timestamp


def duty_cycle_row(topic: str, payload: bytes) -> dict[str, Any]:
    """A row from a message on pioreactor/<unit>/<experiment>/{{ cookiecutter.underscored }}/duty_cycle (a bare number)."""
    unit, experiment = topic_unit_and_experiment(topic)
    return {
        "experiment": experiment,
        "pioreactor_unit": unit,
        "timestamp": utc_now_timestamp(),
        "duty_cycle": float(payload),
    }

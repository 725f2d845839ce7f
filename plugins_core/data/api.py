"""The data plugin's public API: experiments in the leader's database, and the parsers of the
core MQTT sinks (examples for a plugin's own, or reusable for topics of the same shape).

    from pioreactor.plugins_core.data.api import create_experiment, list_experiments

    create_experiment("yeast-2026-03", description="YPD, 30 °C")

A sink parser is called as ``parser(topic, payload)`` and returns a row (column -> value), a
list of rows, or None.
"""

from __future__ import annotations

from pioreactor.plugins_core.data.experiment_store import (
    Experiment,
    ExperimentError,
    assign_units,
    create_experiment,
    delete_experiment,
    experiment_created_at,
    list_experiments,
    unassign_units,
)
from pioreactor.plugins_core.data.records import (
    alt_media_fraction,
    automation_event,
    dosing_event,
    growth_rate,
    kalman_filter_output,
    led_change_event,
    liquid_volume,
    log,
    measured_rpm,
    od_blank,
    od_filtered,
    od_reading,
    raw_od_reading,
    temperature,
)

__all__ = [
    "Experiment",
    "ExperimentError",
    "alt_media_fraction",
    "assign_units",
    "automation_event",
    "create_experiment",
    "delete_experiment",
    "dosing_event",
    "experiment_created_at",
    "growth_rate",
    "kalman_filter_output",
    "led_change_event",
    "liquid_volume",
    "list_experiments",
    "log",
    "measured_rpm",
    "od_blank",
    "od_filtered",
    "od_reading",
    "raw_od_reading",
    "temperature",
    "unassign_units",
]

"""The data plugin's public API: experiments in the leader's database, and the parsers of the
data plugin's own sinks (``log``) and the parser every automation kind shares (``automation_event``).

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
    assigned_experiment,
    create_experiment,
    delete_experiment,
    experiment_created_at,
    list_experiments,
    publish_latest_experiment,
    set_unit_label,
    unassign_units,
    unit_labels,
    units_in_experiment,
)
from pioreactor.plugins_core.data.records import automation_settings, log, unit_label
from pioreactor.sdk.automations.events import automation_event

__all__ = [
    "Experiment",
    "ExperimentError",
    "assign_units",
    "assigned_experiment",
    "automation_event",
    "create_experiment",
    "delete_experiment",
    "experiment_created_at",
    "list_experiments",
    "automation_settings",
    "log",
    "publish_latest_experiment",
    "set_unit_label",
    "unassign_units",
    "unit_label",
    "unit_labels",
    "units_in_experiment",
]

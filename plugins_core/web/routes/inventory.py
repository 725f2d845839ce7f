"""A unit's experiment as the leader knows it (the inventory itself is the cluster plugin's)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pioreactor.plugins_core.web.api import ApiError, require_this_unit


def worker_experiment(pioreactor_unit: str) -> Any:
    """The experiment a unit is assigned to (404 if none)."""
    unit = require_this_unit(pioreactor_unit)
    from pioreactor.plugins_core.data.api import assigned_experiment

    experiment = assigned_experiment(unit)
    if experiment is None:
        raise ApiError(
            404, f"{unit} is not assigned to an experiment", remediation="PUT /api/experiments/<experiment>/workers."
        )
    return {
        "experiment": experiment,
        "pioreactor_unit": unit,
        "utc_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }

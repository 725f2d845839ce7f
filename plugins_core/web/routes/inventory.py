"""A unit's experiment as the leader knows it (the inventory itself is the cluster plugin's)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pioreactor.plugins_core.web.api import ApiError, require_this_unit


def worker_experiment(pioreactor_unit: str) -> Any:
    """The experiment a unit is assigned to (404 if none)."""
    unit = require_this_unit(pioreactor_unit)
    from pioreactor.sdk.database import open_database

    conn = open_database(report=False)
    try:
        row = conn.execute(
            "SELECT experiment FROM experiment_worker_assignments WHERE pioreactor_unit = ?", (unit,)
        ).fetchone()
    finally:
        conn.close()
    if row is None:
        raise ApiError(
            404, f"{unit} is not assigned to an experiment", remediation="PUT /api/experiments/<experiment>/workers."
        )
    return {
        "experiment": row[0],
        "pioreactor_unit": unit,
        "utc_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }

"""The cluster's inventory as the leader knows it. Until the cluster plugin keeps a workers
table, the inventory is this unit alone; ``$broadcast`` and per-unit paths already work."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pioreactor.plugins_core.web.api import ApiError, require_this_unit, unit_name


def _this_worker() -> dict[str, Any]:
    return {
        "pioreactor_unit": unit_name(),
        "added_at": None,
        "is_active": 1,
        "model_name": "pioreactor_40ml",
        "model_version": "1.5",
        "is_leader": True,
    }


def list_workers() -> Any:
    """Units in the inventory (this leader, until workers are added)."""
    return [_this_worker()]


def list_units() -> Any:
    """Every unit, leader included."""
    return [_this_worker()]


def get_worker(pioreactor_unit: str) -> Any:
    """One unit of the inventory."""
    require_this_unit(pioreactor_unit)
    return _this_worker()


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

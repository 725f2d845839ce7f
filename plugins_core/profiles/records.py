"""Runs of profiles in the leader's database (``experiment_profile_runs``), through the data
plane's MQTT sinks: a run announces itself on
``pioreactor/<unit>/<experiment>/experiment_profile/<run id>/experiment_profile_name``.
"""

from __future__ import annotations

from typing import Any

TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS experiment_profile_runs (run_id TEXT PRIMARY KEY, experiment TEXT NOT NULL, "
    "pioreactor_unit TEXT NOT NULL, started_at TEXT NOT NULL, experiment_profile_name TEXT NOT NULL);\n"
    "CREATE INDEX IF NOT EXISTS experiment_profile_runs_by_experiment ON experiment_profile_runs (experiment, started_at)"
)
TOPIC = "pioreactor/+/+/experiment_profile/+/experiment_profile_name"


def profile_run(topic: str, payload: bytes) -> dict[str, Any] | None:
    """A row of ``experiment_profile_runs``, stamped when the database hears of the run (a
    repeated announcement of the same run is ignored: ``run_id`` is the key)."""
    from pioreactor.sdk.database import utc_now_timestamp

    parts = topic.split("/")
    if len(parts) != 6:
        return None
    return {
        "run_id": parts[4],
        "experiment": parts[2],
        "pioreactor_unit": parts[1],
        "started_at": utc_now_timestamp(),
        "experiment_profile_name": payload.decode("utf-8", errors="replace"),
    }

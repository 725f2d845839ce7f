"""``/api/experiments...``: experiments, who works for them, unit labels, chart preferences."""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any

from pioreactor.plugins_core.data.experiment_store import (
    ExperimentError,
    assign_units,
    create_experiment,
    delete_experiment,
    unassign_units,
)
from pioreactor.plugins_core.web.api import ApiError, json_body, require_this_unit
from pioreactor.sdk.database import open_database, utc_now_timestamp

_local = threading.local()
HOURS_SINCE = "round((julianday('now') - julianday(created_at)) * 24, 1)"


def db() -> sqlite3.Connection:
    """This thread's connection to the leader's database (opened once per server thread)."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = open_database(report=False)
        conn.row_factory = sqlite3.Row
        _local.conn = conn
    return conn


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    return [dict(row) for row in cursor.fetchall()]


def _experiment_or_404(experiment: str) -> dict[str, Any]:
    row = db().execute(
        f"SELECT experiment, created_at, description, media_used, organism_used, {HOURS_SINCE} AS delta_hours "
        "FROM experiments WHERE experiment = ?",
        (experiment,),
    ).fetchone()
    if row is None:
        raise ApiError(404, f"no experiment named {experiment!r}", remediation="GET /api/experiments lists them.")
    return dict(row)


def list_experiments() -> Any:
    """Every experiment, newest first, with ``delta_hours`` since it was created."""
    return _rows(
        db().execute(
            f"SELECT experiment, created_at, description, media_used, organism_used, {HOURS_SINCE} AS delta_hours "
            "FROM experiments ORDER BY created_at DESC"
        )
    )


def create() -> Any:
    """Create an experiment: ``{"experiment", "description", "created_at", "mediaUsed", "organismUsed"}``
    (only ``experiment`` is required). 201; 409 if it exists."""
    body = json_body(
        {"experiment": str},
        optional={"description": str, "created_at": str, "mediaUsed": str, "organismUsed": str, "media_used": str, "organism_used": str},
    )
    try:
        created = create_experiment(
            body["experiment"],
            description=body.get("description") or "",
            media_used=body.get("mediaUsed", body.get("media_used")),
            organism_used=body.get("organismUsed", body.get("organism_used")),
            created_at=_timestamp(body.get("created_at")),
            conn=db(),
        )
    except ExperimentError as err:
        status = 409 if "exists" in str(err) else 400
        raise ApiError(status, str(err)) from None
    return _experiment_or_404(created.experiment), 201


def _timestamp(value: str | None) -> str | None:
    if not value:
        return None
    from pioreactor.sdk.database import canonical_timestamp

    try:
        return canonical_timestamp(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError as err:
        raise ApiError(400, f"field 'created_at' is not an ISO 8601 time with a time zone: {value!r}", cause=str(err)) from None


def get(experiment: str) -> Any:
    """One experiment."""
    return _experiment_or_404(experiment)


def patch(experiment: str) -> Any:
    """Change an experiment's ``description`` (and ``media_used``, ``organism_used``)."""
    body = json_body(optional={"description": str, "media_used": str, "organism_used": str, "mediaUsed": str, "organismUsed": str})
    _experiment_or_404(experiment)
    changes = {
        "description": body.get("description"),
        "media_used": body.get("media_used", body.get("mediaUsed")),
        "organism_used": body.get("organism_used", body.get("organismUsed")),
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        raise ApiError(400, "nothing to change", remediation="Send description, media_used or organism_used.")
    assignments = ", ".join(f"{column} = ?" for column in changes)
    db().execute(f"UPDATE experiments SET {assignments} WHERE experiment = ?", (*changes.values(), experiment))
    return _experiment_or_404(experiment)


def delete(experiment: str) -> Any:
    """Delete an experiment and its assignments (its data stays in the database)."""
    try:
        delete_experiment(experiment, conn=db())
    except ExperimentError as err:
        raise ApiError(404, str(err)) from None
    return {"status": "deleted", "experiment": experiment}


def latest() -> Any:
    """The most recently created experiment."""
    row = db().execute(
        f"SELECT experiment, created_at, description, media_used, organism_used, {HOURS_SINCE} AS delta_hours "
        "FROM experiments ORDER BY created_at DESC LIMIT 1"
    ).fetchone()
    if row is None:
        raise ApiError(404, "there are no experiments yet", remediation="POST /api/experiments creates one.")
    return dict(row)


def active() -> Any:
    """Experiments with at least one unit assigned."""
    return _rows(
        db().execute(
            f"SELECT experiment, created_at, description, media_used, organism_used, {HOURS_SINCE} AS delta_hours "
            "FROM experiments WHERE experiment IN (SELECT experiment FROM experiment_worker_assignments) "
            "ORDER BY created_at DESC"
        )
    )


def assignment_count() -> Any:
    """Each experiment with the number of units working for it."""
    return _rows(
        db().execute(
            "SELECT e.experiment, e.created_at, count(a.pioreactor_unit) AS worker_count FROM experiments e "
            "LEFT JOIN experiment_worker_assignments a ON a.experiment = e.experiment "
            "GROUP BY e.experiment ORDER BY e.created_at DESC"
        )
    )


def _worker_row(unit: str, experiment: str | None, label: str | None = None) -> dict[str, Any]:
    return {
        "pioreactor_unit": unit,
        "experiment": experiment,
        "is_active": 1,
        "model_name": "pioreactor_40ml",
        "model_version": "1.5",
        "label": label,
    }


def workers(experiment: str) -> Any:
    """Units assigned to an experiment."""
    _experiment_or_404(experiment)
    labels = _labels(experiment)
    units = [
        row[0]
        for row in db().execute(
            "SELECT pioreactor_unit FROM experiment_worker_assignments WHERE experiment = ? ORDER BY pioreactor_unit",
            (experiment,),
        )
    ]
    return [_worker_row(unit, experiment, labels.get(unit)) for unit in units]


def assign_worker(experiment: str) -> Any:
    """Assign a unit to an experiment: ``{"pioreactor_unit": "..."}`` (it leaves its previous one)."""
    body = json_body({"pioreactor_unit": str})
    unit = require_this_unit(body["pioreactor_unit"])
    try:
        assign_units(experiment, [unit], conn=db())
    except ExperimentError as err:
        raise ApiError(404, str(err)) from None
    return {"status": "assigned", "experiment": experiment, "pioreactor_unit": unit}


def unassign_all(experiment: str) -> Any:
    """Unassign every unit of an experiment."""
    units = [
        row[0]
        for row in db().execute(
            "SELECT pioreactor_unit FROM experiment_worker_assignments WHERE experiment = ?", (experiment,)
        )
    ]
    removed = unassign_units(units, conn=db()) if units else 0
    return {"status": "unassigned", "experiment": experiment, "count": removed}


def unassign_worker(experiment: str, pioreactor_unit: str) -> Any:
    """Unassign one unit from an experiment."""
    row = db().execute(
        "SELECT 1 FROM experiment_worker_assignments WHERE experiment = ? AND pioreactor_unit = ?",
        (experiment, pioreactor_unit),
    ).fetchone()
    if row is None:
        raise ApiError(404, f"{pioreactor_unit} is not assigned to {experiment!r}")
    unassign_units([pioreactor_unit], conn=db())
    return {"status": "unassigned", "experiment": experiment, "pioreactor_unit": pioreactor_unit}


def historical_assignments(experiment: str) -> Any:
    """Every unit that worked for an experiment, with when it joined and left."""
    return _rows(
        db().execute(
            "SELECT pioreactor_unit, experiment, assigned_at, unassigned_at FROM experiment_worker_assignments_history "
            "WHERE experiment = ? ORDER BY assigned_at",
            (experiment,),
        )
    )


def all_assignments() -> Any:
    """Which experiment each unit works for."""
    return _rows(
        db().execute(
            "SELECT pioreactor_unit, experiment, assigned_at FROM experiment_worker_assignments ORDER BY pioreactor_unit"
        )
    )


def unassign_everything() -> Any:
    """Unassign every unit from every experiment."""
    units = [row[0] for row in db().execute("SELECT pioreactor_unit FROM experiment_worker_assignments")]
    return {"status": "unassigned", "count": unassign_units(units, conn=db()) if units else 0}


# -- unit labels ---------------------------------------------------------------------------------
def _labels(experiment: str) -> dict[str, str]:
    rows = db().execute(
        "SELECT pioreactor_unit, label FROM pioreactor_unit_labels WHERE experiment = ?", (experiment,)
    )
    return {unit: label for unit, label in rows}


def unit_labels(experiment: str) -> Any:
    """Labels of the units in an experiment: ``{unit: label}``."""
    return _labels(experiment)


def set_unit_label(experiment: str) -> Any:
    """Label a unit in an experiment: ``{"unit": "...", "label": "..."}`` (an empty label removes it)."""
    body = json_body({"unit": str, "label": str})
    _experiment_or_404(experiment)
    label = body["label"].strip()
    if len(label) > 100:
        raise ApiError(400, "field 'label' is longer than 100 characters")
    if label:
        db().execute(
            "INSERT INTO pioreactor_unit_labels (experiment, pioreactor_unit, label, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (experiment, pioreactor_unit) DO UPDATE SET label = excluded.label",
            (experiment, body["unit"], label, utc_now_timestamp()),
        )
    else:
        db().execute(
            "DELETE FROM pioreactor_unit_labels WHERE experiment = ? AND pioreactor_unit = ?", (experiment, body["unit"])
        )
    return _labels(experiment)


# -- chart preferences ---------------------------------------------------------------------------
CHART_KEYS = ("overview_chart_keys", "pioreactor_chart_keys")


def chart_preferences(experiment: str) -> Any:
    """The charts chosen for an experiment's pages (null: the config's defaults)."""
    _experiment_or_404(experiment)
    row = db().execute(
        "SELECT overview_chart_keys, pioreactor_chart_keys FROM experiment_chart_preferences WHERE experiment = ?",
        (experiment,),
    ).fetchone()
    if row is None:
        return {key: None for key in CHART_KEYS}
    return {key: json.loads(row[key]) if row[key] is not None else None for key in CHART_KEYS}


def set_chart_preferences(experiment: str) -> Any:
    """Choose the charts of an experiment: ``{"overview_chart_keys": [...], "pioreactor_chart_keys": [...]}``
    (either; null resets to the config's defaults)."""
    body = json_body(optional={key: list for key in CHART_KEYS})
    _experiment_or_404(experiment)
    for key in CHART_KEYS:
        for item in body.get(key) or []:
            if not isinstance(item, str):
                raise ApiError(400, f"field {key!r} must be a list of chart keys (text), got {item!r}")
    current = chart_preferences(experiment)
    current.update({key: body[key] for key in CHART_KEYS if key in body})
    db().execute(
        "INSERT INTO experiment_chart_preferences (experiment, overview_chart_keys, pioreactor_chart_keys, updated_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (experiment) DO UPDATE SET overview_chart_keys = excluded.overview_chart_keys, "
        "pioreactor_chart_keys = excluded.pioreactor_chart_keys, updated_at = excluded.updated_at",
        (
            experiment,
            *(json.dumps(current[key]) if current[key] is not None else None for key in CHART_KEYS),
            utc_now_timestamp(),
        ),
    )
    return current


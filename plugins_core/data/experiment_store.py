"""Experiments in the leader's database: create, list, delete, and which units work for which.

The ``experiments`` and ``experiment_worker_assignments`` tables are declared by the ``data``
plugin. Assigning this unit also sets its own experiment (what ``pio run`` uses when
``$EXPERIMENT`` is not set); other units learn theirs through the cluster layer.

    from pioreactor.plugins_core.data.api import create_experiment, list_experiments
    create_experiment("yeast-2026-03", description="YPD, 30 °C")
"""

from __future__ import annotations

import os
import sqlite3
import sys
from dataclasses import dataclass, field

from pioreactor.sdk import (
    DEFAULT_EXPERIMENT,
    PioreactorError,
    assign_experiment,
    check_unit_name,
    get_assigned_experiment,
    get_unit_name,
)
from pioreactor.sdk.database import open_database, utc_now_timestamp

__all__ = [
    "Experiment",
    "ExperimentError",
    "assign_experiment",
    "assign_units",
    "create_experiment",
    "delete_experiment",
    "experiment_created_at",
    "get_assigned_experiment",
    "list_experiments",
    "publish_latest_experiment",
    "set_unit_label",
    "unit_labels",
    "unassign_units",
]

FORBIDDEN = set("/+#\0")


class ExperimentError(PioreactorError):
    """An experiment that does not exist, already exists, or has an unusable name."""


@dataclass
class Experiment:
    experiment: str
    created_at: str
    description: str = ""
    media_used: str | None = None
    organism_used: str | None = None
    units: list[str] = field(default_factory=list)


def check_name(name: str) -> str:
    name = name.strip()
    if (
        not name
        or FORBIDDEN & set(name)
        or not name.isprintable()
        or name.startswith("$")
        or len(name) > 200
    ):
        raise ExperimentError(
            f"{name!r} cannot name an experiment: it becomes part of MQTT topics, so it must not be empty, "
            "start with $, or contain / + # or control characters"
        )
    return name


def _connect(conn: sqlite3.Connection | None) -> tuple[sqlite3.Connection, bool]:
    return (conn, False) if conn is not None else (open_database(), True)


def create_experiment(
    name: str,
    *,
    description: str = "",
    media_used: str | None = None,
    organism_used: str | None = None,
    created_at: str | None = None,
    conn: sqlite3.Connection | None = None,
) -> Experiment:
    """Add experiment ``name`` to the database; an ``ExperimentError`` if the name is taken or invalid."""
    name = check_name(name)
    db, owned = _connect(conn)
    try:
        created = created_at or utc_now_timestamp()
        try:
            db.execute(
                "INSERT INTO experiments (experiment, created_at, description, media_used, organism_used) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, created, description, media_used, organism_used),
            )
        except sqlite3.IntegrityError:
            raise ExperimentError(f"experiment {name!r} exists already") from None
        return Experiment(name, created, description, media_used, organism_used)
    finally:
        if owned:
            db.close()


def list_experiments(conn: sqlite3.Connection | None = None) -> list[Experiment]:
    """Every experiment, newest first, with the units assigned to it."""
    db, owned = _connect(conn)
    try:
        units: dict[str, list[str]] = {}
        for unit, experiment in db.execute(
            "SELECT pioreactor_unit, experiment FROM experiment_worker_assignments ORDER BY pioreactor_unit"
        ):
            units.setdefault(experiment, []).append(unit)
        rows = db.execute(
            "SELECT experiment, created_at, description, media_used, organism_used FROM experiments "
            "ORDER BY created_at DESC"
        ).fetchall()
        return [
            Experiment(name, created, description, media, organism, units.get(name, []))
            for name, created, description, media, organism in rows
        ]
    finally:
        if owned:
            db.close()


def experiment_created_at(name: str, conn: sqlite3.Connection | None = None) -> str | None:
    """When experiment ``name`` was created (canonical UTC timestamp), or None if it does not exist."""
    db, owned = _connect(conn)
    try:
        row = db.execute("SELECT created_at FROM experiments WHERE experiment = ?", (name,)).fetchone()
        return row[0] if row else None
    finally:
        if owned:
            db.close()


def delete_experiment(name: str, conn: sqlite3.Connection | None = None) -> None:
    """Forget the experiment and its assignments; its data (readings, logs) stays in the database."""
    db, owned = _connect(conn)
    try:
        cursor = db.execute("DELETE FROM experiments WHERE experiment = ?", (name,))
        if cursor.rowcount == 0:
            raise ExperimentError(f"no experiment named {name!r}")
        _forget_locally(name)
    finally:
        if owned:
            db.close()


def assign_units(name: str, units: list[str], conn: sqlite3.Connection | None = None) -> list[str]:
    """Make ``units`` (default: this unit) work for experiment ``name``; returns the units assigned."""
    units = units or [get_unit_name()]
    for unit in units:
        check_unit_name(unit)  # a unit name becomes a topic level on that unit
    db, owned = _connect(conn)
    try:
        if db.execute("SELECT 1 FROM experiments WHERE experiment = ?", (name,)).fetchone() is None:
            raise ExperimentError(
                f"no experiment named {name!r}: create it first with `pio experiments create`"
            )
        now = utc_now_timestamp()
        db.executemany(
            "INSERT INTO experiment_worker_assignments (pioreactor_unit, experiment, assigned_at) VALUES (?, ?, ?) "
            "ON CONFLICT (pioreactor_unit) DO UPDATE SET experiment = excluded.experiment, "
            "assigned_at = excluded.assigned_at",
            [(unit, name, now) for unit in units],
        )
        if get_unit_name() in units:
            assign_experiment(name)
        _tell_workers(units, name)
        return units
    finally:
        if owned:
            db.close()


def unassign_units(units: list[str], conn: sqlite3.Connection | None = None) -> int:
    """Free ``units`` (this unit if empty) from their experiment; returns how many were assigned."""
    db, owned = _connect(conn)
    units = units or [get_unit_name()]
    try:
        removed = 0
        for unit in units:
            row = db.execute(
                "DELETE FROM experiment_worker_assignments WHERE pioreactor_unit = ? RETURNING experiment",
                (unit,),
            ).fetchone()
            if row is not None:
                removed += 1
                if unit == get_unit_name():
                    _forget_locally(row[0])
                _tell_workers([unit], None)
        return removed
    finally:
        if owned:
            db.close()


def _tell_workers(units: list[str], experiment: str | None) -> None:
    """Publish the assignment of each worker (retained) so its ``pio run`` needs no HTTP round
    trip; a failure costs a warning, the database is the truth."""
    from pioreactor.plugins_core.cluster.api import publish_assignment

    for unit in units:
        if unit == get_unit_name():
            continue
        try:
            publish_assignment(unit, experiment)
        except Exception as err:
            print(f"warning: could not tell {unit} its assignment over MQTT: {err}", file=sys.stderr)


def _forget_locally(name: str) -> None:
    """This unit no longer works for ``name``: back to the default experiment (unless $EXPERIMENT)."""
    if "EXPERIMENT" not in os.environ and get_assigned_experiment() == name:
        assign_experiment(DEFAULT_EXPERIMENT)


LATEST_EXPERIMENT_TOPIC = "pioreactor/latest_experiment"


def publish_latest_experiment(conn: sqlite3.Connection | None = None) -> bool:
    """Publish the newest experiment, retained, on ``pioreactor/latest_experiment/experiment`` and
    ``.../created_at`` (upstream's topics; cleared when there is none), through this process's
    connection. False if the broker could not be reached."""
    from pioreactor.sdk import get_bus

    found = list_experiments(conn)
    latest = found[0] if found else None
    bus = get_bus()
    if not bus.connected.is_set():
        return False
    bus.publish(f"{LATEST_EXPERIMENT_TOPIC}/experiment", latest.experiment if latest else None, qos=1, retain=True)
    bus.publish(f"{LATEST_EXPERIMENT_TOPIC}/created_at", latest.created_at if latest else None, qos=1, retain=True)
    return True


def set_unit_label(experiment: str, unit: str, label: str, conn: sqlite3.Connection | None = None) -> None:
    """Store ``label`` as ``unit``'s label in ``experiment`` (labels are unique in an experiment)."""
    label = label.strip()
    if not label or not label.isprintable() or len(label) > 100:
        raise ExperimentError(f"{label!r} cannot be a label: give up to 100 printable characters")
    db, owned = _connect(conn)
    try:
        taken = unit_labels(experiment, db)
        for other, other_label in taken.items():
            if other != unit and other_label == label:
                raise ExperimentError(f"{other} is labelled {label!r} in {experiment} already; labels are unique")
        db.execute(
            "INSERT INTO pioreactor_unit_labels (experiment, pioreactor_unit, label, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (experiment, pioreactor_unit) DO UPDATE SET label = excluded.label",
            (experiment, unit, label, utc_now_timestamp()),
        )
    finally:
        if owned:
            db.close()


def assigned_experiment(unit: str, conn: sqlite3.Connection | None = None) -> str | None:
    """The experiment ``unit`` is assigned to (None if none)."""
    db, owned = _connect(conn)
    try:
        row = db.execute(
            "SELECT experiment FROM experiment_worker_assignments WHERE pioreactor_unit = ?", (unit,)
        ).fetchone()
        return None if row is None else str(row[0])
    finally:
        if owned:
            db.close()


def units_in_experiment(experiment: str, conn: sqlite3.Connection | None = None) -> list[str]:
    """The units assigned to ``experiment``, by name."""
    db, owned = _connect(conn)
    try:
        rows = db.execute(
            "SELECT pioreactor_unit FROM experiment_worker_assignments WHERE experiment = ? ORDER BY pioreactor_unit",
            (experiment,),
        )
        return [str(r[0]) for r in rows]
    finally:
        if owned:
            db.close()


def unit_labels(experiment: str, conn: sqlite3.Connection | None = None) -> dict[str, str]:
    """``{unit: label}``: the latest label of each unit in ``experiment``."""
    db, owned = _connect(conn)
    try:
        rows = db.execute(
            "SELECT pioreactor_unit, label FROM pioreactor_unit_labels WHERE experiment = ? ORDER BY created_at",
            (experiment,),
        )
        return dict(rows.fetchall())
    finally:
        if owned:
            db.close()


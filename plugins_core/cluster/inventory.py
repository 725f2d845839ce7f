"""The ``workers`` table of the leader's database: add, remove, list, activate."""

from __future__ import annotations

from typing import Any

from pioreactor.sdk.database import open_database, utc_now_timestamp

COLUMNS = ("pioreactor_unit", "address", "added_at", "is_active", "model_name", "model_version")


class InventoryError(Exception):
    """A change to the inventory that cannot be made; the message says why and what to do."""


def _rows(sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    conn = open_database(report=False)
    try:
        return [dict(zip(COLUMNS, row, strict=True)) for row in conn.execute(sql, params)]
    finally:
        conn.close()


def list_workers(*, active_only: bool = False) -> list[dict[str, Any]]:
    """Every worker, by name."""
    where = " WHERE is_active = 1" if active_only else ""
    return _rows(f"SELECT {', '.join(COLUMNS)} FROM workers{where} ORDER BY pioreactor_unit")


def get_worker(unit: str) -> dict[str, Any] | None:
    """One worker's row, or None when it is not in the inventory."""
    rows = _rows(f"SELECT {', '.join(COLUMNS)} FROM workers WHERE pioreactor_unit = ?", (unit,))
    return rows[0] if rows else None


def add_worker(unit: str, address: str) -> dict[str, Any]:
    """Insert ``unit`` at ``address``, or move it there if it is already known."""
    conn = open_database(report=False)
    try:
        with conn:
            conn.execute(
                "INSERT INTO workers (pioreactor_unit, address, added_at) VALUES (?, ?, ?) "
                "ON CONFLICT (pioreactor_unit) DO UPDATE SET address = excluded.address",
                (unit, address, utc_now_timestamp()),
            )
    finally:
        conn.close()
    worker = get_worker(unit)
    assert worker is not None
    return worker


def remove_worker(unit: str) -> None:
    conn = open_database(report=False)
    try:
        with conn:
            removed = conn.execute("DELETE FROM workers WHERE pioreactor_unit = ?", (unit,)).rowcount
            # a removed worker no longer works for any experiment
            conn.execute("DELETE FROM experiment_worker_assignments WHERE pioreactor_unit = ?", (unit,))
    finally:
        conn.close()
    if not removed:
        raise InventoryError(f"{unit!r} is not in the inventory; `pio workers list` shows the workers")


def set_active(unit: str, active: bool) -> None:
    conn = open_database(report=False)
    try:
        with conn:
            changed = conn.execute(
                "UPDATE workers SET is_active = ? WHERE pioreactor_unit = ?", (int(active), unit)
            ).rowcount
    finally:
        conn.close()
    if not changed:
        raise InventoryError(f"{unit!r} is not in the inventory; add it first with `pio workers add {unit}`")


def history(unit: str | None = None) -> list[dict[str, Any]]:
    conn = open_database(report=False)
    try:
        sql = "SELECT pioreactor_unit, event, at FROM workers_history"
        params: tuple[Any, ...] = ()
        if unit is not None:
            sql += " WHERE pioreactor_unit = ?"
            params = (unit,)
        return [dict(zip(("pioreactor_unit", "event", "at"), r, strict=True)) for r in conn.execute(sql + " ORDER BY at", params)]
    finally:
        conn.close()

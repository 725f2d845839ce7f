"""The leader's ``/api/workers`` routes on the inventory (upstream's UI contract)."""

from __future__ import annotations

from typing import Any

from pioreactor.plugins_core.cluster import inventory
from pioreactor.plugins_core.web.api import ApiError, json_body, submit_unit_task


def list_workers() -> Any:
    """Every worker of the inventory."""
    return inventory.list_workers()


def list_units() -> Any:
    """Every unit: the workers (the leader too when it was added as one)."""
    return inventory.list_workers()


def discover_workers() -> Any:
    """Units answering on mDNS that are not in the inventory yet (nor this one):
    ``[{"pioreactor_unit", "address", "version"}]``; ``?seconds=`` to listen (0.5-10, default 3)."""
    from pioreactor.plugins_core.cluster.mdns import discover
    from pioreactor.plugins_core.web.api import query_float, unit_name

    seconds = query_float("seconds", 3.0, minimum=0.5, maximum=10.0)
    known = {w["pioreactor_unit"] for w in inventory.list_workers()} | {unit_name()}
    return [unit for unit in discover(seconds) if unit["pioreactor_unit"] not in known]


def get_worker(pioreactor_unit: str) -> Any:
    """One worker of the inventory (404 if it is not in it)."""
    worker = inventory.get_worker(pioreactor_unit)
    if worker is None:
        raise ApiError(404, f"{pioreactor_unit!r} is not in the inventory", remediation="PUT /api/workers to add it.")
    return worker


def add_worker() -> Any:
    """``{"pioreactor_unit", "address"?}``: checked like ``pio workers add`` (400 naming the
    problems when the worker does not answer), then added; 201."""
    from pioreactor.plugins_core.cluster.fanout import settings
    from pioreactor.plugins_core.cluster.probe import probe

    body = json_body({"pioreactor_unit": str}, optional={"address": str, "force": bool})
    unit = body["pioreactor_unit"].strip()
    if not unit:
        raise ApiError(400, "field 'pioreactor_unit' must not be empty")
    address = body.get("address") or f"{unit}.local"
    timeout, _, port = settings()
    problems = [] if body.get("force") else probe(unit, address, default_port=port, timeout=timeout)
    if problems:
        raise ApiError(400, f"{unit} was not added", cause="; ".join(problems), remediation="Fix it, or send force: true.")
    return inventory.add_worker(unit, address), 201


def remove_worker(pioreactor_unit: str) -> Any:
    """Remove a worker from the inventory (and from its experiment)."""
    try:
        inventory.remove_worker(pioreactor_unit)
    except inventory.InventoryError as err:
        raise ApiError(404, str(err)) from None
    return {"status": "removed", "pioreactor_unit": pioreactor_unit}


def set_active(pioreactor_unit: str) -> Any:
    """Activate or deactivate a worker: ``{"is_active": 0 | 1}``."""
    body = json_body({"is_active": (int, bool)})
    if body["is_active"] not in (0, 1):
        raise ApiError(400, f"field 'is_active' must be 0 or 1, got {body['is_active']!r}")
    try:
        inventory.set_active(pioreactor_unit, bool(body["is_active"]))
    except inventory.InventoryError as err:
        raise ApiError(404, str(err)) from None
    return get_worker(pioreactor_unit)


def worker_history(pioreactor_unit: str) -> Any:
    """A worker's inventory events: added, removed, activated, deactivated."""
    return inventory.history(pioreactor_unit)


def _api_power(pioreactor_unit: str, action: str) -> Any:
    return submit_unit_task(
        pioreactor_unit,
        "pioreactor.plugins_core.cluster.unit_routes:power_here",
        action,
        unit_api=("POST", f"/unit_api/system/{action}", None),
    )


def api_reboot(pioreactor_unit: str) -> Any:
    """Reboot a unit (``$broadcast``: every active worker), as a task with one result per unit."""
    return _api_power(pioreactor_unit, "reboot")


def api_shutdown(pioreactor_unit: str) -> Any:
    """Shut a unit down (``$broadcast``: every active worker), as a task with one result per unit."""
    return _api_power(pioreactor_unit, "shutdown")

"""The public API of the ``cluster`` plugin, for other plugins and their routes.

    from pioreactor.plugins_core.cluster.api import fan_out, worker_addresses

    results = fan_out(worker_addresses(active_only=True), lambda unit: ("GET", "/unit_api/jobs/running", None))
    # {"worker1": {"ok": True, "unit": "worker1", "value": [...]}, "worker2": {"ok": False, ...}}
"""

from __future__ import annotations

from typing import Any

from pioreactor.plugins_core.cluster.assignment import clear_assignment, publish_assignment
from pioreactor.plugins_core.cluster.configs import unit_config_path
from pioreactor.plugins_core.cluster.fanout import envelope, fan_out
from pioreactor.plugins_core.cluster.http import Unreachable, call, call_and_wait
from pioreactor.plugins_core.cluster.inventory import InventoryError, get_worker, list_workers
from pioreactor.plugins_core.cluster.mdns import advertise, discover
from pioreactor.plugins_core.cluster.sync import push_configs, push_shared_config_to_workers
from pioreactor.plugins_core.data.api import units_in_experiment  # the data plugin owns the assignments

__all__ = [
    "InventoryError",
    "Unreachable",
    "advertise",
    "call",
    "call_and_wait",
    "clear_assignment",
    "discover",
    "envelope",
    "fan_out",
    "forward_to_units",
    "get_worker",
    "list_workers",
    "publish_assignment",
    "push_configs",
    "push_shared_config_to_workers",
    "target_units",
    "unit_config_path",
    "units_in_experiment",
    "worker_addresses",
]


def worker_addresses(*, active_only: bool = False, units: list[str] | None = None) -> dict[str, str]:
    """``{unit: address}`` of the inventory's workers (only ``units`` when given)."""
    found = {w["pioreactor_unit"]: w["address"] for w in list_workers(active_only=active_only)}
    if units is None:
        return found
    missing = [u for u in units if u not in found]
    if missing:
        raise InventoryError(
            f"not in the inventory{' (or inactive)' if active_only else ''}: {', '.join(missing)}; "
            "`pio workers list` shows the workers"
        )
    return {u: found[u] for u in units}


def target_units(pioreactor_unit: str, experiment: str | None = None) -> list[str] | None:
    """The units a leader route on ``/api/workers/<pioreactor_unit>/...`` addresses: that unit if
    it is in the inventory; for ``$broadcast`` the active workers (assigned to ``experiment``
    when given). ``None`` when the inventory does not know the unit (or is empty, for
    ``$broadcast``): the route answers for the leader itself, as on a one-unit setup."""
    active = [w["pioreactor_unit"] for w in list_workers(active_only=True)]
    if pioreactor_unit != "$broadcast":
        return [pioreactor_unit] if get_worker(pioreactor_unit) is not None else None
    if not list_workers():
        return None
    if experiment is not None:
        assigned = set(units_in_experiment(experiment))
        return [u for u in active if u in assigned]
    return active


def forward_to_units(units: list[str], method: str, path: str, body: Any = None) -> dict[str, dict[str, Any]]:
    """A task body: ``method path`` (a ``/unit_api`` path) on each unit in parallel, tasks waited
    for; one envelope per unit, as the leader's ``/api/workers/<unit>/...`` routes answer."""
    found = worker_addresses()
    results = fan_out({u: found[u] for u in units if u in found}, lambda unit: (method, path, body))
    for unit in units:
        if unit not in found:
            results[unit] = {
                "ok": False,
                "unit": unit,
                "error": {"kind": "inventory", "message": f"{unit} is not in the inventory"},
                "status_code": 404,
                "retryable": False,
            }
    return results

"""The public API of the ``cluster`` plugin, for other plugins and their routes.

    from pioreactor.plugins_core.cluster.api import fan_out, worker_addresses

    results = fan_out(worker_addresses(active_only=True), lambda unit: ("GET", "/unit_api/jobs/running", None))
    # {"worker1": {"ok": True, "unit": "worker1", "value": [...]}, "worker2": {"ok": False, ...}}
"""

from __future__ import annotations

from pioreactor.plugins_core.cluster.assignment import clear_assignment, publish_assignment
from pioreactor.plugins_core.cluster.fanout import envelope, fan_out
from pioreactor.plugins_core.cluster.http import Unreachable, call, call_and_wait
from pioreactor.plugins_core.cluster.inventory import (
    InventoryError,
    get_worker,
    list_workers,
    units_in_experiment,
)

__all__ = [
    "InventoryError",
    "Unreachable",
    "call",
    "call_and_wait",
    "clear_assignment",
    "envelope",
    "fan_out",
    "get_worker",
    "list_workers",
    "publish_assignment",
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

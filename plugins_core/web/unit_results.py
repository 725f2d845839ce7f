"""Per-unit results for the leader's ``/api/workers/<unit>/...`` and ``/api/units/<unit>/...``
routes, in the envelope upstream's UI unwraps: ``{"<unit>": {"ok": true, "unit", "value"}}`` or
``{"<unit>": {"ok": false, "unit", "error": {"kind", "message"}, "status_code", "retryable"}}``.

A route that names the same work on a worker's ``/unit_api`` (``unit_api=(method, path, body)``)
reaches the workers of the cluster's inventory: the named unit, or for ``$broadcast`` every
active worker, over HTTP in parallel. Without an inventory (a one-unit setup) this unit answers
for itself (``$broadcast`` means this unit).

    from pioreactor.plugins_core.web.api import submit_task
    return submit_task("pioreactor.plugins_core.web.unit_results:on_units", unit, "my_plugin.work:listing")
"""

from __future__ import annotations

from typing import Any

from pioreactor.plugins_core.web.api import ApiError


def _load(target: str) -> Any:
    import importlib

    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def on_units(
    pioreactor_unit: str, target: str, *args: Any, unit_api: tuple[str, str, Any] | None = None, **kwargs: Any
) -> dict[str, Any]:
    """A task: ``target`` ("module:function") with ``args`` for each unit, one envelope each;
    workers of the inventory get ``unit_api`` (method, path, body) over HTTP instead."""
    from pioreactor.sdk import get_unit_name

    me = get_unit_name()
    if unit_api is not None and pioreactor_unit != me:
        from pioreactor.plugins_core.cluster.api import forward_to_units, target_units

        units = target_units(pioreactor_unit)
        if units is not None:
            return forward_to_units(units, *unit_api)
    unit = me if pioreactor_unit == "$broadcast" else pioreactor_unit
    if unit != me:
        return {
            unit: {
                "ok": False,
                "unit": unit,
                "error": {"kind": "inventory", "message": f"{unit} is not this unit, nor a worker of its inventory"},
                "status_code": 404,
                "retryable": False,
            }
        }
    try:
        return {unit: {"ok": True, "unit": unit, "value": _load(target)(*args, **kwargs)}}
    except ApiError as err:
        message = f"{err.error}: {err.cause}" if err.cause else err.error
        return {
            unit: {
                "ok": False,
                "unit": unit,
                "error": {"kind": "http", "message": message},
                "status_code": err.status,
                "retryable": False,
            }
        }

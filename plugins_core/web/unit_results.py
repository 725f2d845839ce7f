"""Per-unit results for the leader's ``/api/workers/<unit>/...`` and ``/api/units/<unit>/...``
routes, in the envelope upstream's UI unwraps: ``{"<unit>": {"ok": true, "unit", "value"}}`` or
``{"<unit>": {"ok": false, "unit", "error": {"kind", "message"}, "status_code", "retryable"}}``.

Until the cluster fan-out exists, only this unit answers (``$broadcast`` means this unit); any
other unit gets a failed envelope saying so.

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


def on_units(pioreactor_unit: str, target: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """A task: ``target`` ("module:function") with ``args`` for each unit, one envelope each."""
    from pioreactor.sdk import get_unit_name

    me = get_unit_name()
    unit = me if pioreactor_unit == "$broadcast" else pioreactor_unit
    if unit != me:
        return {
            unit: {
                "ok": False,
                "unit": unit,
                "error": {"kind": "unreachable", "message": f"{unit} is not this unit, and fan-out to workers is not there yet"},
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

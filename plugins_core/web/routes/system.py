"""Health, versions, the clock and task results."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flask import current_app
from pioreactor.plugins_core.web.api import ApiError, require_this_unit, unit_name


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _app_version() -> str:
    try:
        return version("pioreactor")
    except PackageNotFoundError:
        return "unknown"


def health() -> dict[str, Any]:
    """Whether this unit's web server answers: ``{"status": "ok", "pioreactor_unit", "utc_time"}``."""
    return {"status": "ok", "pioreactor_unit": unit_name(), "utc_time": _utc_now()}


def versions_app() -> dict[str, Any]:
    """The software version of this unit."""
    return {"version": _app_version()}


def versions_ui() -> dict[str, Any]:
    """The version of the web UI this server serves (the software's, until the UI ships apart)."""
    return {"version": _app_version()}


def versions() -> dict[str, Any]:
    """Versions of the software, Python and the web stack of this unit."""
    import platform

    def of(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {
        "app": _app_version(),
        "python": platform.python_version(),
        "flask": of("flask"),
        "waitress": of("waitress"),
        "huey": of("huey"),
    }


def utc_clock() -> dict[str, Any]:
    """This unit's clock (UTC)."""
    return {"pioreactor_unit": unit_name(), "clock_time": _utc_now()}


def _on_workers(pioreactor_unit: str, function: str, path: str) -> Any:
    """For a worker of the inventory (or ``$broadcast`` over them): a task asking each one's
    ``/unit_api`` (one envelope per unit); None to answer here."""
    if pioreactor_unit == unit_name():
        return None
    from pioreactor.plugins_core.cluster.api import target_units
    from pioreactor.plugins_core.web.api import submit_unit_task

    if target_units(pioreactor_unit) is None:
        return None
    return submit_unit_task(pioreactor_unit, f"{__name__}:{function}", unit_api=("GET", path, None))


def unit_utc_clock(pioreactor_unit: str) -> Any:
    """A unit's clock (UTC); a worker's (or ``$broadcast``: every active worker's) as a task."""
    forwarded = _on_workers(pioreactor_unit, "utc_clock", "/unit_api/system/utc_clock")
    if forwarded is not None:
        return forwarded
    require_this_unit(pioreactor_unit)
    return utc_clock()


def unit_versions_app(pioreactor_unit: str) -> Any:
    """A unit's software version; a worker's (or ``$broadcast``: every active worker's) as a task."""
    forwarded = _on_workers(pioreactor_unit, "versions_app", "/unit_api/versions/app")
    if forwarded is not None:
        return forwarded
    require_this_unit(pioreactor_unit)
    return versions_app()


def local_access_point() -> dict[str, Any]:
    """Whether the leader runs a local Wi-Fi access point (never, in this software)."""
    return {"active": False}


def task_result(task_id: str) -> Any:
    """A task's outcome: 202 while it waits or runs, then 200 with ``status`` ``succeeded``
    (and ``result``) or ``failed`` (and ``error``)."""
    tasks = current_app.extensions["pioreactor_tasks"]
    try:
        outcome = tasks.result(task_id)
    except KeyError:
        raise ApiError(
            404, f"no task {task_id!r} on this unit", remediation="Task ids come from the task_id of a 202 answer."
        ) from None
    if outcome is None:
        return {"task_id": task_id, "status": "pending"}, 202
    return {"task_id": task_id, **outcome}


def disk_space() -> dict[str, Any]:
    """Disk usage of the volume holding ``$PIO_HOME``."""
    import shutil

    from pioreactor.sdk.unit import pio_home

    usage = shutil.disk_usage(pio_home())
    return {"total": usage.total, "used": usage.used, "free": usage.free, "percent": round(100 * usage.used / usage.total, 1)}


def memory() -> dict[str, Any]:
    """Memory of this machine (from /proc/meminfo), in bytes."""
    from pathlib import Path

    fields: dict[str, int] = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = int(value.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        raise ApiError(503, "memory figures are not available on this system") from None
    total, available = fields.get("MemTotal", 0), fields.get("MemAvailable", 0)
    return {"total": total, "available": available, "percent": round(100 * (total - available) / total, 1) if total else None}


def ipv4() -> dict[str, Any]:
    """This unit's IPv4 addresses (as seen by its routes out)."""
    import socket

    addresses: list[str] = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            addresses.append(probe.getsockname()[0])
    except OSError:
        pass
    return {"ipv4": addresses}


def web_server_status() -> dict[str, Any]:
    """The web server's own state: its job, threads and task queue."""
    from flask import current_app

    tasks = current_app.extensions["pioreactor_tasks"]
    return {"service": "web_server", "state": "ready", "pioreactor_unit": unit_name(), "task_workers": tasks.workers}


MODELS = [
    {"model_name": "pioreactor_20ml", "model_version": "1.0", "display_name": "Pioreactor 20ml, v1.0"},
    {"model_name": "pioreactor_20ml", "model_version": "1.1", "display_name": "Pioreactor 20ml, v1.1"},
    {"model_name": "pioreactor_40ml", "model_version": "1.0", "display_name": "Pioreactor 40ml, v1.0"},
    {"model_name": "pioreactor_40ml", "model_version": "1.5", "display_name": "Pioreactor 40ml, v1.5"},
]


def models() -> Any:
    """The bioreactor models a unit can be."""
    return {"models": MODELS}


# the model a unit was said to be (the UI asks when none is stored)
MODEL_STORE = "unit_models"
DEFAULT_MODEL = MODELS[-1]


def unit_model(pioreactor_unit: str) -> Any:
    """The bioreactor model of a unit: ``{"pioreactor_unit", "model_name", "model_version",
    "display_name"}`` (the newest model until one is set)."""
    import json

    from pioreactor.sdk import local_persistent_storage

    unit = require_this_unit(pioreactor_unit)
    with local_persistent_storage(MODEL_STORE) as store:
        stored = store.get(unit)
    model = json.loads(stored) if stored else DEFAULT_MODEL
    return {"pioreactor_unit": unit, **model}


def set_unit_model(pioreactor_unit: str) -> Any:
    """Say which model a unit is: ``{"model_name": "pioreactor_40ml", "model_version": "1.5"}``."""
    import json

    from pioreactor.plugins_core.web.api import json_body
    from pioreactor.sdk import local_persistent_storage

    unit = require_this_unit(pioreactor_unit)
    body = json_body({"model_name": str, "model_version": str})
    model = next(
        (m for m in MODELS if (m["model_name"], m["model_version"]) == (body["model_name"], body["model_version"])),
        None,
    )
    if model is None:
        known = ", ".join(f"{m['model_name']} {m['model_version']}" for m in MODELS)
        raise ApiError(400, f"unknown model {body['model_name']!r} version {body['model_version']!r}", remediation=f"Known models: {known}.")
    with local_persistent_storage(MODEL_STORE) as store:
        store[unit] = json.dumps(model)
    return {"pioreactor_unit": unit, **model}


def blink(pioreactor_unit: str) -> Any:
    """Ask a unit (or ``$broadcast``: every unit) to blink its LED, to find it on the bench."""
    from pioreactor.plugins_core.web.api import publish

    unit = pioreactor_unit if pioreactor_unit == "$broadcast" else require_this_unit(pioreactor_unit)
    publish(f"pioreactor/{unit}/$experiment/monitor/flicker_led_response_okay", "1", qos=0)
    return {"status": "sent", "pioreactor_unit": unit}, 202

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


def unit_utc_clock(pioreactor_unit: str) -> dict[str, Any]:
    """A unit's clock (UTC)."""
    require_this_unit(pioreactor_unit)
    return utc_clock()


def unit_versions_app(pioreactor_unit: str) -> dict[str, Any]:
    """A unit's software version."""
    require_this_unit(pioreactor_unit)
    return versions_app()


def local_access_point() -> dict[str, Any]:
    """Whether the leader runs a local Wi-Fi access point (never, in this software)."""
    return {"active": False}


def task_result(task_id: str) -> Any:
    """A task's outcome: 202 while it waits or runs, then 200 with ``status`` ``succeeded``
    (and ``result``) or ``failed`` (and ``error``)."""
    tasks = current_app.extensions["pioreactor.tasks"]
    try:
        outcome = tasks.result(task_id)
    except KeyError:
        raise ApiError(
            404, f"no task {task_id!r} on this unit", remediation="Task ids come from the task_id of a 202 answer."
        ) from None
    if outcome is None:
        return {"task_id": task_id, "status": "pending"}, 202
    return {"task_id": task_id, **outcome}

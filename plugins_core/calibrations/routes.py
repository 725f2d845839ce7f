"""Calibrations over HTTP, as upstream's UI calls them.

``/unit_api/...`` on every unit answers about that unit's calibrations at once. The leader's
``/api/workers/<unit>/...`` twins answer as tasks (``202`` + ``result_url_path``) whose result is
one envelope per unit, ``{"<unit>": {"ok": true, "unit": ..., "value": ...}}``, the shape the UI
unwraps; ``$broadcast`` means every unit.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from flask import Response, jsonify
from flask.typing import ResponseReturnValue
from pioreactor.plugins_core.web.api import ApiError, json_body, submit_unit_task

HERE = "pioreactor.plugins_core.calibrations.routes"


def _not_found(err: Exception) -> ApiError:
    return ApiError(404, str(err), "no such device or calibration", "GET /unit_api/calibrations lists them")


def _checked(device: str, name: str | None = None) -> None:
    """Device and calibration names become file names: refuse anything but a plain name."""
    from pioreactor.plugins_core.calibrations.api import CalibrationError, calibration_path

    try:
        calibration_path(device, name or "x")
    except CalibrationError as err:
        raise ApiError(400, str(err), "device or calibration_name", "use letters, digits, '_', '-' and '.'") from None


def _as_dict(device: str, name: str, active: str | None) -> dict[str, Any]:
    import msgspec
    from pioreactor.plugins_core.calibrations.api import load_calibration
    from pioreactor.sdk import get_unit_name

    data = msgspec.to_builtins(load_calibration(device, name))
    data["device"] = device
    data["is_active"] = name == active
    data["pioreactor_unit"] = get_unit_name()
    return dict(data)


# -- what a unit answers (plain functions: the leader's tasks call them too) ----------------------
def all_calibrations() -> dict[str, list[dict[str, Any]]]:
    from pioreactor.plugins_core.calibrations.api import (
        active_calibration_name,
        list_calibrations,
        list_devices,
    )

    result: dict[str, list[dict[str, Any]]] = {}
    for device in list_devices():
        active = active_calibration_name(device)
        entries = []
        for name in list_calibrations(device):
            try:
                entries.append(_as_dict(device, name, active))
            except Exception:  # a broken file is left out, as `pio calibrations list` does
                continue
        result[device] = entries
    return result


def active_calibrations() -> dict[str, dict[str, Any]]:
    from pioreactor.plugins_core.calibrations.api import active_calibration_name, list_devices

    result = {}
    for device in list_devices():
        name = active_calibration_name(device)
        if name:
            try:
                result[device] = _as_dict(device, name, name)
            except Exception:
                continue
    return result


def protocols() -> list[dict[str, Any]]:
    from pioreactor.sdk.calibration_protocols import calibration_protocol_registry

    return [
        {
            "protocol_name": spec.name,
            "target_device": device,
            "title": spec.summary or spec.name.replace("_", " ").capitalize(),
            "description": spec.summary,
            "source": spec.plugin,
            "requirements": [],
        }
        for (device, _), spec in sorted(calibration_protocol_registry().entries.items())
    ]


def create_from_yaml(device: str, calibration_data: str, set_as_active: bool) -> dict[str, Any]:
    from pioreactor.plugins_core.calibrations.api import (
        CalibrationError,
        from_yaml,
        save_calibration,
        set_active_calibration,
    )

    _checked(device)
    try:
        calibration = from_yaml(calibration_data, source="calibration_data")
        _checked(device, calibration.calibration_name)
        path = save_calibration(device, calibration)
        if set_as_active:
            set_active_calibration(device, calibration.calibration_name)
    except CalibrationError as err:
        raise ApiError(400, str(err), "calibration_data", "send the YAML that `pio calibrations display` prints") from None
    return {"msg": "Calibration created successfully.", "path": str(path), "calibration_name": calibration.calibration_name}


def set_active(device: str, calibration_name: str) -> dict[str, Any]:
    from pioreactor.plugins_core.calibrations.api import CalibrationError, set_active_calibration

    _checked(device, calibration_name)
    try:
        set_active_calibration(device, calibration_name)
    except CalibrationError as err:
        raise _not_found(err) from None
    return {"device": device, "active": calibration_name}


def clear_active(device: str) -> dict[str, Any]:
    from pioreactor.plugins_core.calibrations.api import clear_active_calibration

    _checked(device)
    return {"device": device, "cleared": clear_active_calibration(device)}


def delete(device: str, calibration_name: str) -> dict[str, Any]:
    from pioreactor.plugins_core.calibrations.api import CalibrationError, delete_calibration

    _checked(device, calibration_name)
    try:
        delete_calibration(device, calibration_name)
    except CalibrationError as err:
        raise _not_found(err) from None
    return {"device": device, "deleted": calibration_name}


def zipped() -> bytes:
    from pioreactor.plugins_core.calibrations.api import calibrations_dir

    buffer = io.BytesIO()
    base = calibrations_dir()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(base.glob("*/*.yaml")) if base.is_dir() else []:
            archive.write(path, path.relative_to(base).as_posix())
    return buffer.getvalue()


# -- /unit_api views -------------------------------------------------------------------------------
def get_calibrations() -> ResponseReturnValue:
    """Every calibration of this unit, by device (each with ``is_active``)."""
    return jsonify(all_calibrations())


def get_device_calibrations(device: str) -> ResponseReturnValue:
    """The calibrations of one device."""
    _checked(device)
    return jsonify(all_calibrations().get(device, []))


def get_calibration(device: str, calibration_name: str) -> ResponseReturnValue:
    """One calibration."""
    from pioreactor.plugins_core.calibrations.api import CalibrationError, active_calibration_name

    _checked(device, calibration_name)
    try:
        return jsonify(_as_dict(device, calibration_name, active_calibration_name(device)))
    except CalibrationError as err:
        raise _not_found(err) from None


def post_calibration(device: str) -> ResponseReturnValue:
    """Save a calibration: ``{"calibration_data": "<YAML>", "set_as_active": false}``."""
    body = json_body()
    text = body.get("calibration_data")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "calibration_data is required", "calibration_data: missing", "send the calibration's YAML as text")
    return jsonify(create_from_yaml(device, text, bool(body.get("set_as_active", False)))), 201


def delete_calibration_view(device: str, calibration_name: str) -> ResponseReturnValue:
    """Delete a calibration (and clear it if it was active)."""
    return jsonify(delete(device, calibration_name))


def get_active_calibrations() -> ResponseReturnValue:
    """The active calibration of each device."""
    return jsonify(active_calibrations())


def patch_active_calibration(device: str, calibration_name: str) -> ResponseReturnValue:
    """Make a calibration the device's active one."""
    return jsonify(set_active(device, calibration_name))


def delete_active_calibration(device: str) -> ResponseReturnValue:
    """Leave the device without an active calibration."""
    return jsonify(clear_active(device))


def get_protocols() -> ResponseReturnValue:
    """The calibration protocols installed on this unit."""
    return jsonify(protocols())


def get_zipped_calibrations() -> ResponseReturnValue:
    """Every calibration YAML of this unit, zipped."""
    return Response(
        zipped(),
        mimetype="application/zip",
        headers={"Content-Disposition": "attachment; filename=calibrations.zip"},
    )


# -- the leader's /api/workers/<unit>/... twins ------------------------------------------------------
def _task(pioreactor_unit: str, function: str, *args: Any, unit_api: tuple[str, str, Any]) -> ResponseReturnValue:
    """``function(*args)`` here, or ``unit_api`` (method, path, body) on the workers it addresses."""
    return submit_unit_task(pioreactor_unit, f"{HERE}:{function}", *args, unit_api=unit_api)


def api_calibrations(pioreactor_unit: str) -> ResponseReturnValue:
    """Calibrations of a unit (or ``$broadcast``), as a task."""
    return _task(pioreactor_unit, "all_calibrations", unit_api=("GET", "/unit_api/calibrations", None))


def api_active_calibrations(pioreactor_unit: str) -> ResponseReturnValue:
    """Active calibrations of a unit (or ``$broadcast``), as a task."""
    return _task(pioreactor_unit, "active_calibrations", unit_api=("GET", "/unit_api/active_calibrations", None))


def api_protocols(pioreactor_unit: str) -> ResponseReturnValue:
    """Calibration protocols of a unit, as a task."""
    return _task(pioreactor_unit, "protocols", unit_api=("GET", "/unit_api/calibration_protocols", None))


def api_device_calibrations(pioreactor_unit: str, device: str) -> ResponseReturnValue:
    """The calibrations of one device of a unit, as a task."""
    _checked(device)
    return _task(pioreactor_unit, "device_calibrations", device, unit_api=("GET", f"/unit_api/calibrations/{device}", None))


def device_calibrations(device: str) -> list[dict[str, Any]]:
    return all_calibrations().get(device, [])


def api_calibration(pioreactor_unit: str, device: str, calibration_name: str) -> ResponseReturnValue:
    """One calibration of a unit, as a task."""
    _checked(device, calibration_name)
    return _task(
        pioreactor_unit, "one_calibration", device, calibration_name, unit_api=("GET", f"/unit_api/calibrations/{device}/{calibration_name}", None)
    )


def one_calibration(device: str, calibration_name: str) -> dict[str, Any]:
    from pioreactor.plugins_core.calibrations.api import CalibrationError, active_calibration_name

    try:
        return _as_dict(device, calibration_name, active_calibration_name(device))
    except CalibrationError as err:
        raise _not_found(err) from None


def api_post_calibration(pioreactor_unit: str, device: str) -> ResponseReturnValue:
    """Save a calibration on a unit: ``{"calibration_data": "<YAML>", "set_as_active": false}``."""
    _checked(device)
    body = json_body()
    text = body.get("calibration_data")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "calibration_data is required", "calibration_data: missing", "send the calibration's YAML as text")
    active = bool(body.get("set_as_active", False))
    forward = ("POST", f"/unit_api/calibrations/{device}", {"calibration_data": text, "set_as_active": active})
    return _task(pioreactor_unit, "create_from_yaml", device, text, active, unit_api=forward)


def api_delete_calibration(pioreactor_unit: str, device: str, calibration_name: str) -> ResponseReturnValue:
    """Delete a calibration on a unit, as a task."""
    _checked(device, calibration_name)
    return _task(
        pioreactor_unit, "delete", device, calibration_name, unit_api=("DELETE", f"/unit_api/calibrations/{device}/{calibration_name}", None)
    )


def api_patch_active(pioreactor_unit: str, device: str, calibration_name: str) -> ResponseReturnValue:
    """Set a unit's active calibration of a device, as a task."""
    _checked(device, calibration_name)
    return _task(
        pioreactor_unit,
        "set_active",
        device,
        calibration_name,
        unit_api=("PATCH", f"/unit_api/active_calibrations/{device}/{calibration_name}", None),
    )


def api_delete_active(pioreactor_unit: str, device: str) -> ResponseReturnValue:
    """Clear a unit's active calibration of a device, as a task."""
    _checked(device)
    return _task(pioreactor_unit, "clear_active", device, unit_api=("DELETE", f"/unit_api/active_calibrations/{device}", None))


def api_zipped_calibrations(pioreactor_unit: str) -> ResponseReturnValue:
    """The zipped calibrations of this unit (other units: their own /unit_api/zipped_calibrations)."""
    from pioreactor.sdk import get_unit_name

    if pioreactor_unit not in ("$broadcast", get_unit_name()):
        raise ApiError(404, f"{pioreactor_unit} is not this unit", "fan-out is not there yet", f"ask http://{pioreactor_unit}/unit_api/zipped_calibrations")
    return get_zipped_calibrations()


# -- estimators: upstream's newer, model-based cousins of calibrations; this unit has none ----------
def no_estimators() -> dict[str, Any]:
    return {}


def get_estimators() -> ResponseReturnValue:
    """Estimators of this unit, by device (none exist in this implementation: ``{}``)."""
    return jsonify(no_estimators())


def api_estimators(pioreactor_unit: str) -> ResponseReturnValue:
    """Estimators (or active estimators) of a unit, as a task: ``{}`` per unit."""
    return _task(pioreactor_unit, "no_estimators", unit_api=("GET", "/unit_api/estimators", None))


def sessions_not_offered(**_: Any) -> ResponseReturnValue:
    """Calibration sessions driven from a browser are not offered: run ``pio calibrations run``."""
    raise ApiError(
        501,
        "calibration sessions from the web UI are not offered by this software yet",
        "the protocols ask their questions in a terminal",
        "run `pio calibrations run --device <device>` on the unit; the result appears here",
    )

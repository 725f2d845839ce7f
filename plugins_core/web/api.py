"""The public API of the ``web`` plugin, for the route modules of any plugin.

A route module is plain Flask: its view functions return a dict or list (sent as JSON), or a
Flask response. This module adds what every route needs, the same way everywhere:

* :class:`ApiError`: raise it to answer ``{"error", "cause", "remediation"}`` with a status;
* :func:`json_body`: the request's JSON object, its fields checked (a bad field is named);
* :func:`submit_task`: run slow work in the task queue and answer ``202`` with the URL to poll;
* :func:`safe_filename` and :func:`safe_path`: a user-supplied file name that cannot leave its
  folder (``../``, absolute paths, encoded forms are refused);
* :func:`unit_name`, :func:`is_leader`, :func:`publish`: this unit, through the SDK.

    from pioreactor.plugins_core.web.api import ApiError, json_body, submit_task

    def set_volume():
        body = json_body({"ml": float}, optional={"note": str})
        if body["ml"] <= 0:
            raise ApiError(400, "ml must be positive", remediation="Send a volume above 0.")
        return submit_task("my_plugin.tasks:set_volume", body["ml"])
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

__all__ = [
    "ApiError",
    "exports_folder",
    "is_leader",
    "json_body",
    "publish",
    "query_float",
    "query_int",
    "record_config_history",
    "require_this_unit",
    "safe_filename",
    "safe_path",
    "submit_task",
    "submit_unit_task",
    "task_result_path",
    "unit_name",
]

JsonType = type | tuple[type, ...]
_TYPE_NAMES = {str: "text", int: "an integer", float: "a number", bool: "true or false", list: "a list", dict: "an object"}


class ApiError(Exception):
    """An error answered as JSON ``{"error", "cause", "remediation"}`` with HTTP ``status``."""

    def __init__(self, status: int, error: str, cause: str | None = None, remediation: str | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.cause = cause
        self.remediation = remediation

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.error, "cause": self.cause, "remediation": self.remediation}


def _type_name(kind: JsonType) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)


def _matches(value: Any, kind: JsonType) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    for k in kinds:
        if k is float and isinstance(value, int | float) and not isinstance(value, bool):
            return True
        if k is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if k not in (int, float) and isinstance(value, k):
            return True
    return False


def json_body(
    required: Mapping[str, JsonType] | None = None,
    *,
    optional: Mapping[str, JsonType] | None = None,
    allow_empty: bool = False,
) -> dict[str, Any]:
    """The request's JSON object, with ``required`` fields present and every listed field of its
    type (``float`` accepts integers). Unlisted fields pass through. Raises :class:`ApiError`
    400 naming the field that is missing or wrong."""
    from flask import request

    raw = request.get_data(cache=True)
    if not raw.strip():
        if allow_empty or not required:
            body: Any = {}
        else:
            raise ApiError(
                400,
                "the request has no JSON body",
                remediation=f"Send a JSON object with {', '.join(repr(k) for k in required)} "
                "and the header Content-Type: application/json.",
            )
    else:
        import json

        try:
            body = json.loads(raw)
        except ValueError as err:
            raise ApiError(400, "the request body is not valid JSON", cause=str(err)) from None
    if not isinstance(body, dict):
        raise ApiError(400, f"the request body must be a JSON object, got {type(body).__name__}")
    for name, kind in (required or {}).items():
        if name not in body:
            raise ApiError(400, f"field {name!r} is required", remediation=f"Add {name!r} ({_type_name(kind)}) to the body.")
    for name, kind in {**(required or {}), **(optional or {})}.items():
        if name in body and not (body[name] is None and name in (optional or {})) and not _matches(body[name], kind):
            raise ApiError(
                400,
                f"field {name!r} must be {_type_name(kind)}, got {body[name]!r}",
                remediation=f"Send {name!r} as {_type_name(kind)}.",
            )
    return body


def query_float(name: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
    """A number query parameter (``?seconds=2.5``), bounded; a bad value is a 400 naming it."""
    from flask import request

    text = request.args.get(name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        raise ApiError(400, f"query parameter {name!r} must be a number, got {text!r}") from None
    if not math.isfinite(value):  # NaN passes every comparison; inf is no count
        raise ApiError(400, f"query parameter {name!r} must be a finite number, got {text!r}")
    if minimum is not None and value < minimum:
        raise ApiError(400, f"query parameter {name!r} must be at least {minimum:g}, got {value:g}")
    if maximum is not None and value > maximum:
        raise ApiError(400, f"query parameter {name!r} must be at most {maximum:g}, got {value:g}")
    return value


def query_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer query parameter (``?limit=50``), bounded; a bad value is a 400 naming it."""
    return int(query_float(name, default, minimum=minimum, maximum=maximum))


def task_result_path(task_id: str) -> str:
    """Where a task's outcome is polled: ``/unit_api/task_results/<task_id>``."""
    return f"/unit_api/task_results/{task_id}"


def submit_task(target: str, *args: Any, **kwargs: Any) -> Any:
    """Queue ``target`` (``"package.module:function"``, called with ``args`` and ``kwargs`` in the
    web server's task workers) and answer ``202 {"unit", "task_id", "result_url_path"}``.

    Polling ``result_url_path`` answers 202 while the task waits or runs, then 200 with
    ``{"status": "succeeded", "result": ...}`` or ``{"status": "failed", "error": ...}`` (a
    raised :class:`ApiError` or exception becomes the error). Records survive a server restart.
    """
    from flask import current_app, jsonify

    task_id = current_app.extensions["pioreactor_tasks"].submit(target, args, kwargs)
    response = jsonify({"unit": unit_name(), "task_id": task_id, "result_url_path": task_result_path(task_id)})
    response.status_code = 202
    return response


_ENCODED_SEPARATORS = ("%2f", "%5c", "%2e", "%00")


def safe_filename(name: str, *, suffixes: tuple[str, ...] = ()) -> str:
    """``name`` if it is a plain file name (no folder part, no ``..``, not absolute, not hidden,
    no encoded separators), ending in one of ``suffixes`` when given; else :class:`ApiError` 400."""
    if not isinstance(name, str):
        raise ApiError(400, f"file name {name!r} must be text")
    decoded = name
    for _ in range(3):  # double-encoded forms (%252e) too
        decoded = unquote(decoded)
    lowered = name.lower()
    bad = (
        not name.strip()
        or name != name.strip()
        or any(sep in decoded for sep in ("/", "\\", "\0"))
        or any(code in lowered for code in _ENCODED_SEPARATORS)
        or decoded.startswith(".")
        or decoded in (".", "..")
        or Path(decoded).is_absolute()
        or len(name) > 255
    )
    if bad:
        raise ApiError(
            400,
            f"file name {name!r} is not allowed",
            cause="a file name must not contain a folder, '..', a leading dot or an encoded separator",
            remediation="Use a plain name such as 'my_profile.yaml'.",
        )
    if suffixes and not name.endswith(suffixes):
        raise ApiError(400, f"file name {name!r} must end with {' or '.join(suffixes)}")
    return name


def safe_path(folder: Path, name: str, *, suffixes: tuple[str, ...] = ()) -> Path:
    """``folder / name`` for a :func:`safe_filename`, checked again to resolve inside ``folder``."""
    path = (folder / safe_filename(name, suffixes=suffixes)).resolve()
    if path.parent != folder.resolve():
        raise ApiError(400, f"file name {name!r} is not allowed", cause="it resolves outside its folder")
    return path


def record_config_history(filename: str, text: str) -> str:
    """Keep ``text`` as a version of config file ``filename`` (``GET /api/config/.../history``);
    the timestamp it was kept under."""
    from pioreactor.plugins_core.web.routes.config import record_history

    return record_history(filename, text)


def unit_name() -> str:
    """This unit's name."""
    from pioreactor.sdk import get_unit_name

    return get_unit_name()


def is_leader() -> bool:
    """True when this unit leads the cluster (and serves ``/api``)."""
    from pioreactor.sdk import am_i_leader

    return am_i_leader()


def publish(topic: str, payload: str | bytes, *, qos: int = 1, retain: bool = False) -> None:
    """Publish on MQTT through the web server's connection."""
    from pioreactor.sdk import get_bus

    get_bus().publish(topic, payload, qos=qos, retain=retain)


def new_task_id() -> str:
    return str(uuid.uuid4())


def require_this_unit(pioreactor_unit: str) -> str:
    """The unit a leader route addresses, when it is this unit (or ``$broadcast``); 404 otherwise.

    Until the cluster plugin fans requests out to workers, the leader answers for itself only.
    """
    here = unit_name()
    if pioreactor_unit in (here, "$broadcast"):
        return here
    raise ApiError(
        404,
        f"unit {pioreactor_unit!r} is not in this cluster's inventory",
        remediation=f"GET /api/workers lists the units; this leader is {here!r}.",
    )


def exports_folder() -> Path:
    """Where exported files go; the web server serves them under ``/exports/<name>``."""
    from flask import current_app

    folder = current_app.extensions.get("pioreactor_exports")
    if folder is None:
        raise ApiError(503, "this server has no exports folder")
    return Path(folder)


def submit_unit_task(
    pioreactor_unit: str, target: str, *args: Any, unit_api: tuple[str, str, Any] | None = None, **kwargs: Any
) -> Any:
    """For a leader route on ``/api/workers/<unit>/...`` (or ``$broadcast``): queue ``target``
    (``"package.module:function"``) and answer ``202``; the task's result is one envelope per
    unit, as upstream's UI unwraps it: ``{"<unit>": {"ok": true, "unit", "value"}}`` or
    ``{"<unit>": {"ok": false, "unit", "error": {"kind", "message"}, "status_code", "retryable"}}``.

    ``unit_api=(method, path, body)`` is the same work on a unit's ``/unit_api``: a worker of the
    cluster's inventory (every active one for ``$broadcast``) gets that request over HTTP; this
    unit, or any unit when there is no inventory, runs ``target`` here (see ``unit_results``)."""
    return submit_task(
        "pioreactor.plugins_core.web.unit_results:on_units", pioreactor_unit, target, *args, unit_api=unit_api, **kwargs
    )

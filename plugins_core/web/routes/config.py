"""config.ini (shared by the cluster) and unit_config.ini (this unit's): read, validated writes,
history. A file that does not parse, or gives a declared key a value of the wrong type, is
refused with the problem and never written."""

from __future__ import annotations

import io
import os
import sqlite3
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Response, request, send_file
from pioreactor.plugins_core.web.api import ApiError, json_body, require_this_unit, unit_name
from pioreactor.sdk.unit import check_config_text, config_file_path, merged_config, pio_home

MAX_HISTORY = 200


def _history_db() -> sqlite3.Connection:
    path = pio_home() / "storage" / "config_history.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS config_files_histories "
        "(filename TEXT NOT NULL, timestamp TEXT NOT NULL, data TEXT NOT NULL)"
    )
    return conn


def _read(which: str) -> str:
    path = config_file_path(which)
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _text_response(text: str) -> Response:
    return Response(text, mimetype="text/plain", headers={"Cache-Control": "no-store"})


def _new_text() -> str:
    """The new file's text: JSON ``{"code": ...}`` (as the UI sends) or a text/plain body."""
    if request.mimetype == "application/json":
        body = json_body(optional={"code": str, "config": str, "filename": str})
        text = body.get("code", body.get("config"))
        if text is None:
            raise ApiError(400, "field 'code' is required", remediation='Send {"code": "<the config.ini text>"}.')
        return str(text)
    return request.get_data(as_text=True)


def record_history(name: str, text: str) -> str:
    """Keep ``text`` as a version of config file ``name``; the timestamp."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with _history_db() as conn:
        conn.execute("INSERT INTO config_files_histories VALUES (?, ?, ?)", (name, now, text))
        conn.execute(
            "DELETE FROM config_files_histories WHERE filename = ? AND rowid NOT IN (SELECT rowid FROM "
            "config_files_histories WHERE filename = ? ORDER BY timestamp DESC LIMIT ?)",
            (name, name, MAX_HISTORY),
        )
    return now


def _checked_text(which: str, name: str) -> str:
    text = _new_text()
    problems = check_config_text(text, which)
    if problems:
        raise ApiError(
            400,
            f"{name} was not saved: {problems[0]}",
            cause="\n".join(problems),
            remediation="Fix the line named above and save again; the file on disk is unchanged.",
        )
    return text


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)  # readers see the old file or the new one, never half of it


def _save(which: str) -> dict[str, Any]:
    path = config_file_path(which)
    text = _checked_text(which, path.name)
    _write(path, text)
    return {"status": "saved", "filename": path.name, "timestamp": record_history(path.name, text)}


def _save_shared_and_push() -> dict[str, Any]:
    """The leader's config.ini, saved, then pushed to every worker of the inventory (upstream
    runs ``pios sync-configs`` after a save): ``"units"`` has one envelope per worker."""
    saved = _save("shared")
    from pioreactor.plugins_core.cluster.api import push_shared_config_to_workers

    return {**saved, "units": push_shared_config_to_workers()}


def _worker_copy(pioreactor_unit: str) -> Path | None:
    """The leader's copy of a worker's unit_config.ini (``cluster_configs/config_<unit>.ini``), for
    a unit of the inventory other than this one; None for this unit."""
    if pioreactor_unit == unit_name():
        return None
    from pioreactor.plugins_core.cluster.api import get_worker, unit_config_path

    if get_worker(pioreactor_unit) is None:
        require_this_unit(pioreactor_unit)  # 404, naming the inventory
    return unit_config_path(pioreactor_unit)


def _history(which: str) -> list[dict[str, Any]]:
    return _history_of(config_file_path(which).name)


def _history_of(name: str) -> list[dict[str, Any]]:
    with _history_db() as conn:
        rows = conn.execute(
            "SELECT filename, timestamp, data FROM config_files_histories WHERE filename = ? ORDER BY timestamp DESC",
            (name,),
        ).fetchall()
    return [{"filename": f, "timestamp": t, "data": d} for f, t, d in rows]


def get_shared() -> Response:
    """config.ini as text (the UI parses it for [mqtt], [ui.*] and the job sections)."""
    return _text_response(_read("shared"))


def put_shared() -> Any:
    """Replace config.ini: ``{"code": "<text>"}`` or a text/plain body. Refused (400, with the
    line and the problem) if it does not parse or a value has the wrong type. On a leader with
    workers, they get it too (``"units"``: one result per worker)."""
    return _save_shared_and_push()


def put_shared_here() -> Any:
    """This unit's copy of the cluster's config.ini, as the leader pushes it (``pios sync-configs``)."""
    return _save("shared")


def shared_history() -> Any:
    """Earlier versions of config.ini saved through the API, newest first."""
    return _history("shared")


def get_specific(pioreactor_unit: str) -> Response:
    """A unit's unit_config.ini as text (for a worker, the leader's copy of it)."""
    copy = _worker_copy(pioreactor_unit)
    if copy is not None:
        return _text_response(copy.read_text(encoding="utf-8") if copy.exists() else "")
    require_this_unit(pioreactor_unit)
    return _text_response(_read("specific"))


def put_specific(pioreactor_unit: str) -> Any:
    """Replace a unit's unit_config.ini (validated like config.ini). For a worker of the
    inventory: the leader's copy (``config_<unit>.ini``) is saved, then pushed to the worker
    (``"units"``: its result)."""
    copy = _worker_copy(pioreactor_unit)
    if copy is None:
        require_this_unit(pioreactor_unit)
        return _save("specific")
    text = _checked_text("specific", copy.name)
    _write(copy, text)
    saved = {"status": "saved", "filename": copy.name, "timestamp": record_history(copy.name, text)}
    from pioreactor.plugins_core.cluster.api import forward_to_units

    return {**saved, "units": forward_to_units([pioreactor_unit], "PUT", "/unit_api/config/specific", {"code": text})}


def specific_history(pioreactor_unit: str) -> Any:
    """Earlier versions of a unit's unit_config.ini, newest first."""
    copy = _worker_copy(pioreactor_unit)
    if copy is not None:
        return _history_of(copy.name)
    require_this_unit(pioreactor_unit)
    return _history("specific")


def get_specific_here() -> Response:
    """This unit's unit_config.ini as text."""
    return _text_response(_read("specific"))


def put_specific_here() -> Any:
    """Replace this unit's unit_config.ini (validated)."""
    return _save("specific")


def merged_config_view() -> Any:
    """This unit's configuration: defaults, config.ini and unit_config.ini merged, as JSON."""
    return merged_config()


def _workers_merged(pioreactor_unit: str) -> dict[str, dict[str, Any]] | None:
    """The merged configs of the workers ``pioreactor_unit`` addresses (``$broadcast``: every
    active one), asked over HTTP in parallel: one envelope each; None to answer here."""
    if pioreactor_unit == unit_name():
        return None
    from pioreactor.plugins_core.cluster.api import forward_to_units, target_units

    units = target_units(pioreactor_unit)
    return None if units is None else forward_to_units(units, "GET", "/unit_api/config/merged")


def unit_merged_config(pioreactor_unit: str) -> Any:
    """A unit's merged configuration as JSON ``{section: {key: value}}`` (a worker's is asked
    over HTTP; 502 naming the problem when it does not answer)."""
    if pioreactor_unit != "$broadcast":
        found = _workers_merged(pioreactor_unit)
        if found is not None:
            result = found[pioreactor_unit]
            if not result["ok"]:
                raise ApiError(502, f"{pioreactor_unit} did not answer: {result['error']['message']}")
            return result["value"]
    require_this_unit(pioreactor_unit)
    return merged_config()


def unit_configs(pioreactor_unit: str) -> Any:
    """Merged configurations by unit, as the UI reads them: ``{"configs": {unit: {section: {key:
    value}}}, "errors": {unit: message}}`` (``$broadcast``: every active worker of the
    inventory, else this unit)."""
    found = _workers_merged(pioreactor_unit)
    if found is not None:
        return {
            "configs": {u: r["value"] for u, r in found.items() if r["ok"]},
            "errors": {u: r["error"]["message"] for u, r in found.items() if not r["ok"]},
        }
    unit = unit_name() if pioreactor_unit == "$broadcast" else require_this_unit(pioreactor_unit)
    return {"configs": {unit: merged_config()}, "errors": {}}


def zipped() -> Any:
    """config.ini and this unit's unit_config.ini in a zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for which in ("shared", "specific"):
            path: Path = config_file_path(which)
            if path.exists():
                name = path.name if which == "shared" else f"{unit_name()}/{path.name}"
                archive.write(path, name)
    buffer.seek(0)
    return send_file(buffer, mimetype="application/zip", as_attachment=True, download_name="configs.zip")


# -- upstream 25.11's file names -------------------------------------------------------------
def _unit_of(filename: str) -> str | None:
    """None for ``config.ini`` (the shared file); the unit whose unit_config.ini ``filename`` is:
    ``config_<unit>.ini`` for this unit or a worker of the inventory, ``unit_config.ini`` for this one."""
    from pioreactor.plugins_core.cluster.api import get_worker
    from pioreactor.plugins_core.web.api import safe_filename

    name = safe_filename(filename, suffixes=(".ini",))
    if name == "config.ini":
        return None
    if name == "unit_config.ini":
        return unit_name()
    unit = name.removeprefix("config_").removesuffix(".ini")
    if name.startswith("config_") and (unit == unit_name() or get_worker(unit) is not None):
        return unit
    raise ApiError(
        404, f"no config file {name!r}", remediation="GET /api/configs lists config.ini and each unit's config_<unit>.ini."
    )


def list_config_files() -> Any:
    """The config files the UI can edit: ``config.ini``, then ``config_<unit>.ini`` of this unit
    and of each worker of the inventory."""
    from pioreactor.plugins_core.cluster.api import list_workers

    units = [unit_name()] + [w["pioreactor_unit"] for w in list_workers() if w["pioreactor_unit"] != unit_name()]
    return ["config.ini"] + [f"config_{unit}.ini" for unit in units]


def get_config_file(filename: str) -> Response:
    """A config file as text, by upstream 25.11's name."""
    unit = _unit_of(filename)
    return get_shared() if unit is None else get_specific(unit)


def put_config_file(filename: str) -> Any:
    """Replace a config file by upstream 25.11's name: ``{"code": "<text>", "filename": ...}``
    (config.ini goes to the workers too, a worker's file to that worker, as the ``/api/config`` routes)."""
    unit = _unit_of(filename)
    return put_shared() if unit is None else put_specific(unit)


def config_file_history(filename: str) -> Any:
    """Earlier versions of a config file, by upstream 25.11's name."""
    unit = _unit_of(filename)
    return shared_history() if unit is None else specific_history(unit)

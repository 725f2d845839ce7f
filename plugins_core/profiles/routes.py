"""Experiment profiles over HTTP (leader, ``/api``), as upstream's UI calls them.

Saving (create or edit) runs the same checks as ``pio run experiment_profile verify``: a profile
with an error is refused with ``400`` and every problem as ``file:line:column: severity: message
[code]``, plus ``diagnostics`` (``severity, code, message, path, hint, line, column``) for the
UI. File names are plain ``*.yaml``/``*.yml`` names in ``$PIO_HOME/experiment_profiles``:
anything with a folder, ``..`` or an encoded separator is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, jsonify
from flask.typing import ResponseReturnValue
from pioreactor.plugins_core.web.api import ApiError, json_body, safe_path

SUFFIXES = (".yaml", ".yml")


def _folder() -> Path:
    from pioreactor.plugins_core.profiles.api import experiment_profiles_dir

    return experiment_profiles_dir()


def _path(filename: str) -> Path:
    return safe_path(_folder(), filename, suffixes=SUFFIXES)


def _existing(filename: str) -> Path:
    path = _path(filename)
    if not path.is_file():
        raise ApiError(404, f"no experiment profile {filename!r}", "unknown filename", "GET /api/experiment_profiles lists them")
    return path


def list_profiles() -> ResponseReturnValue:
    """Every profile (newest first): ``[{"experimentProfile": {...}, "file", "fullpath"}]``."""
    import yaml

    folder = _folder()
    files = [*folder.glob("*.yaml"), *folder.glob("*.yml")] if folder.is_dir() else []
    result = []
    for path in sorted(files, key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue  # unreadable: `pio run experiment_profile verify` says why
        if not isinstance(data, dict):
            continue
        data.setdefault("experiment_profile_name", f"temporary name: {path.stem}")
        result.append({"experimentProfile": data, "file": path.name, "fullpath": path.as_posix()})
    return jsonify(result)


def get_profile(filename: str) -> ResponseReturnValue:
    """The profile's YAML, as text."""
    return Response(_existing(filename).read_text(encoding="utf-8"), mimetype="text/plain")


def check(text: str, filename: str) -> tuple[list[str], list[dict[str, Any]], bool]:
    """The problems of a profile's text as verify prints them (first lines), as diagnostics, and
    whether any is an error."""
    from pioreactor.plugins_core.profiles.validate import check_text

    _, problems, _ = check_text(text, filename)
    lines = [problem.format(None, filename) for problem in problems]
    diagnostics = [
        {
            "severity": problem.severity,
            "code": problem.code,
            "message": problem.message,
            "path": f"{filename}:{problem.line}:{problem.column}",
            "hint": problem.hint or None,
            "line": problem.line,
            "column": problem.column,
        }
        for problem in problems
    ]
    return lines, diagnostics, any(problem.severity == "error" for problem in problems)


def _save(filename: str, text: Any, *, create: bool) -> ResponseReturnValue:
    if not isinstance(text, str):
        raise ApiError(400, "field 'body' must be the profile's YAML text", "body", "send {\"body\": \"<YAML>\", \"filename\": \"x.yaml\"}")
    path = _path(filename)
    lines, diagnostics, failed = check(text, path.name)
    if failed:
        errors = [line for line, d in zip(lines, diagnostics, strict=True) if d["severity"] == "error"]
        return (
            jsonify(
                {
                    "error": "Validation error: " + "; ".join(errors),
                    "cause": f"{len(errors)} error(s) in the profile",
                    "remediation": "fix the line(s) named; `pio run experiment_profile verify` checks the same",
                    "problems": lines,
                    "diagnostics": diagnostics,
                }
            ),
            400,
        )
    if create and path.exists():
        raise ApiError(409, f"experiment profile {path.name!r} already exists", "filename", "choose another name, or PATCH it")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    status = 201 if create else 200
    return jsonify({"status": "success", "file": path.name, "warnings": lines}), status


def create_profile() -> ResponseReturnValue:
    """Save a new profile: ``{"filename": "x.yaml", "body": "<YAML>"}``; refused with each
    problem's line and column if it has an error."""
    body = json_body({"filename": str, "body": str})
    return _save(body["filename"], body["body"], create=True)


def edit_profile_legacy() -> ResponseReturnValue:
    """25.11's edit: ``PATCH /api/contrib/experiment_profiles`` with ``{"filename", "body"}``."""
    body = json_body({"filename": str, "body": str})
    return _save(body["filename"], body["body"], create=False)


def edit_profile(filename: str) -> ResponseReturnValue:
    """Replace a profile's YAML: ``{"body": "<YAML>"}``, checked as on create."""
    body = json_body({"body": str})
    return _save(filename, body["body"], create=False)


def delete_profile(filename: str) -> ResponseReturnValue:
    """Delete a profile file."""
    _existing(filename).unlink()
    return {"status": "success"}


def verify_profile() -> ResponseReturnValue:
    """Check a profile without saving it: ``{"body": "<YAML>", "filename"?}`` →
    ``{"ok", "problems", "diagnostics"}``."""
    body = json_body({"body": str}, optional={"filename": str})
    filename = body.get("filename") or "profile.yaml"
    lines, diagnostics, failed = check(body["body"], Path(filename).name)
    return {"ok": not failed, "problems": lines, "diagnostics": diagnostics}


def recent_runs(experiment: str) -> ResponseReturnValue:
    """Runs of profiles in an experiment, newest first (from the database)."""
    from pioreactor.sdk.database import open_database

    conn = open_database(report=False)
    try:
        rows = conn.execute(
            "SELECT started_at, experiment_profile_name, experiment, pioreactor_unit, run_id "
            "FROM experiment_profile_runs WHERE experiment = ? ORDER BY started_at DESC LIMIT 200",
            (experiment,),
        ).fetchall()
    finally:
        conn.close()
    keys = ("started_at", "experiment_profile_name", "experiment", "pioreactor_unit", "run_id")
    return jsonify([dict(zip(keys, row, strict=True)) for row in rows])


def running_profiles(experiment: str) -> ResponseReturnValue:
    """Profiles running in an experiment on this unit: ``[{"job_name", "experiment", "job_id",
    "settings": {"experiment_profile_name", "start_time_utc", ...}}]``; stop one with
    ``POST /unit_api/jobs/stop {"job_id": ...}``."""
    from pioreactor.sdk.unit import running_jobs

    runs = []
    for job in running_jobs(experiment=experiment, with_settings=True):
        if str(job["job_name"]).split("/")[0] != "experiment_profile":
            continue
        settings = dict(job.get("settings") or {})
        if settings.get("profile_filename"):  # the UI links to /experiment-profiles/<file name>
            settings["profile_filename"] = Path(str(settings["profile_filename"])).name
        runs.append({"job_name": "experiment_profile", "experiment": job["experiment"], "job_id": job["job_id"], "settings": settings})
    return jsonify(runs)


# -- capabilities: what a profile can start, for the profile editor's search panel ------------------
def _options(interface: Any) -> list[dict[str, Any]]:
    seen = {}
    for info in interface.options.values():
        seen[info.flag] = {
            "name": info.key,
            "long_flag": info.flag.lstrip("-"),
            "help": "",
            "required": info.required,
            "multiple": False,
            "is_flag": info.is_flag,
            "default": info.default,
            "type": "BOOL" if info.is_flag else info.type_name.upper(),
        }
    return list(seen.values())


def _settings(settings: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Published settings as JSON: a struct datatype (a msgspec class) becomes ``json``."""
    return {
        name: {key: (value if isinstance(value, str | int | float | bool | None) else "json") for key, value in meta.items()}
        for name, meta in (settings or {}).items()
    }


def capabilities() -> list[dict[str, Any]]:
    """Every job (and each automation of each ``<kind>_automation``) a profile can start: its
    options and its settings."""
    from pioreactor.plugins_core.profiles.api import automation_interface, job_interface
    from pioreactor.sdk.plugins import automations_of_kind, registered_jobs

    result: list[dict[str, Any]] = []
    for name, spec in sorted(registered_jobs().items()):
        try:
            interface = job_interface(name)
        except Exception:  # a job whose module cannot be imported is left out, as in `pio run --help`
            continue
        if interface is None:
            continue
        if interface.automation_kind:
            for automation in sorted(automations_of_kind(interface.automation_kind)):
                try:
                    detail = automation_interface(interface.automation_kind, automation)
                except Exception:
                    continue
                if detail is not None:
                    result.append(
                        {
                            "job_name": name,
                            "automation_name": automation,
                            "help": spec.summary,
                            "arguments": [],
                            "options": [o for o in _options(detail) if o["name"] != "automation_name"],
                            "published_settings": _settings(detail.settings),
                        }
                    )
            continue
        result.append(
            {
                "job_name": name,
                "help": spec.summary,
                "arguments": [],
                "options": _options(interface),
                "published_settings": _settings(interface.settings),
            }
        )
    return result


def unit_capabilities() -> Any:
    """What this unit can run: jobs and automations with their options and settings."""
    return capabilities()


def api_capabilities(pioreactor_unit: str) -> Any:
    """What a unit (or ``$broadcast``) can run, as a task."""
    from pioreactor.plugins_core.web.api import submit_unit_task

    return submit_unit_task(
        pioreactor_unit, "pioreactor.plugins_core.profiles.routes:capabilities", unit_api=("GET", "/unit_api/capabilities", None)
    )

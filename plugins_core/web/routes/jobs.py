"""Jobs: start (``pio run`` in its own process), stop, change settings, list.

A start answers 202 at once; the task spawns the process and reports it started (the job
registered itself) or failed (its exit code and last output lines), and never waits for it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import current_app, request
from pioreactor.plugins_core.web.api import (
    ApiError,
    json_body,
    publish,
    query_int,
    require_this_unit,
    submit_task,
    unit_name,
)
from pioreactor.sdk.plugins import registered_jobs
from pioreactor.sdk.unit import job_history as _job_history
from pioreactor.sdk.unit import running_jobs as _running

OPTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
SETTING_NAME = re.compile(r"^\$?[a-z][a-z0-9_]*$")
# what a caller may put in a job's environment (upstream's UI sends the first two)
ALLOWED_ENV = frozenset({"EXPERIMENT", "JOB_SOURCE", "ACTIVE"})
TASKS = "pioreactor.plugins_core.web.job_tasks"


# -- starting ------------------------------------------------------------------------------------
def _argv(job_name: str, body: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """``pio run`` arguments and environment from ``{options, args, env, config_overrides}``."""
    options = body.get("options") or {}
    args = body.get("args") or []
    env = body.get("env") or {}
    overrides = body.get("config_overrides") or []
    argv: list[str] = ["run"]
    for index, item in enumerate(overrides):
        if not (isinstance(item, list | tuple) and len(item) == 3 and all(isinstance(v, str | int | float) for v in item)):
            raise ApiError(
                400,
                f"config_overrides[{index}] must be [section, key, value], got {item!r}",
                remediation='Send e.g. [["stirring.config", "pwm_hz", "100"]].',
            )
        argv += ["--config-override", *(str(v) for v in item)]
    argv.append(job_name)
    for name, value in options.items():
        if not OPTION_NAME.match(str(name)):
            raise ApiError(400, f"option {name!r} is not an option name", remediation="Use names like target_rpm.")
        flag = "--" + str(name).replace("_", "-")
        if value is None:
            continue
        if isinstance(value, bool):
            argv.append(flag if value else f"--no-{flag[2:]}")
        elif isinstance(value, str | int | float):
            argv += [flag, str(value)]
        else:
            raise ApiError(400, f"option {name!r} must be text, a number or true/false, got {value!r}")
    for index, arg in enumerate(args):
        if not isinstance(arg, str | int | float) or isinstance(arg, bool):
            raise ApiError(400, f"args[{index}] must be text or a number, got {arg!r}")
        argv.append(str(arg))
    environment: dict[str, str] = {}
    for key, value in env.items():
        if key not in ALLOWED_ENV:
            raise ApiError(
                400, f"env key {key!r} is not allowed", remediation=f"Allowed keys: {', '.join(sorted(ALLOWED_ENV))}."
            )
        if value is not None:
            environment[key] = str(value)
    return argv, environment


def _start(job_name: str, body: dict[str, Any], experiment: str | None = None) -> Any:
    if job_name not in registered_jobs():
        raise ApiError(
            404,
            f"no job named {job_name!r} on {unit_name()}",
            remediation="GET /unit_api/jobs/descriptors or `pio run --help` lists the jobs; is its plugin installed?",
        )
    argv, env = _argv(job_name, body)
    if experiment is not None:
        env["EXPERIMENT"] = experiment
    env.setdefault("JOB_SOURCE", "user")
    current_app.extensions["pioreactor_security"].allow_job_start()
    return submit_task(f"{TASKS}:spawn_job", job_name, argv, env)


JOB_BODY = {"options": dict, "args": list, "env": dict, "config_overrides": list}


def run_job(job_name: str) -> Any:
    """Start a job on this unit: body ``{"options": {...}, "args": [...], "env": {"EXPERIMENT":
    ...}, "config_overrides": [[section, key, value]]}`` (all optional). 202 with a task whose
    result says the process started (``pid``) or why it failed."""
    return _start(job_name, json_body(optional=JOB_BODY, allow_empty=True))


def _forwarded(pioreactor_unit: str, experiment: str | None, method: str, path: str, body: Any = None) -> Any:
    """For a unit of the cluster's inventory (or ``$broadcast`` over it), a task that sends
    ``method path`` to each unit's /unit_api (one envelope per unit); None to answer here."""
    if pioreactor_unit == unit_name():
        return None
    from pioreactor.plugins_core.cluster.api import target_units

    units = target_units(pioreactor_unit, experiment)
    if units is None:
        return None
    return submit_task("pioreactor.plugins_core.cluster.api:forward_to_units", units, method, path, body)


def api_run_job(pioreactor_unit: str, job_name: str, experiment: str) -> Any:
    """Start a job on a unit for an experiment (the body as ``/unit_api/jobs/run/job_name/<job>``);
    a worker of the inventory (or ``$broadcast``: the active workers of the experiment) gets it
    over HTTP."""
    body = json_body(optional=JOB_BODY, allow_empty=True)
    forwarded_body = {**body, "env": {**(body.get("env") or {}), "EXPERIMENT": experiment}}
    forwarded = _forwarded(pioreactor_unit, experiment, "POST", f"/unit_api/jobs/run/job_name/{job_name}", forwarded_body)
    if forwarded is not None:
        return forwarded
    require_this_unit(pioreactor_unit)
    return _start(job_name, body, experiment)


# -- stopping ------------------------------------------------------------------------------------
def _filters() -> dict[str, Any]:
    """Stop filters from the query string and/or the JSON body."""
    body = json_body(
        optional={"job_name": str, "experiment": str, "job_source": str, "job_id": (int, str), "settings": dict},
        allow_empty=True,
    )
    filters: dict[str, Any] = {}
    for key in ("job_name", "experiment", "job_source", "job_id"):
        value = body.get(key, request.args.get(key))
        if value not in (None, ""):
            filters[key] = value
    if "job_id" in filters:
        try:
            filters["job_id"] = int(filters["job_id"])
        except (TypeError, ValueError):
            raise ApiError(400, f"job_id must be an integer, got {filters['job_id']!r}") from None
    return filters


def stop_jobs() -> Any:
    """Stop the jobs matching ``job_name``, ``experiment``, ``job_source`` and/or ``job_id``
    (query string or JSON body). 202 with a task whose result counts the jobs stopped."""
    filters = _filters()
    if not filters:
        raise ApiError(
            400,
            "say which jobs to stop",
            remediation="Give job_name, experiment, job_source or job_id, or use /unit_api/jobs/stop/all.",
        )
    return submit_task(f"{TASKS}:stop_jobs", filters)


def stop_all_jobs() -> Any:
    """Stop every job of this unit (long-running ones such as the web server are spared)."""
    return submit_task(f"{TASKS}:stop_jobs", {"all_jobs": True})


def api_stop_job(pioreactor_unit: str, job_name: str, experiment: str) -> Any:
    """Stop one job of a unit in an experiment."""
    body = {"job_name": job_name, "experiment": experiment}
    forwarded = _forwarded(pioreactor_unit, experiment, "POST", "/unit_api/jobs/stop", body)
    if forwarded is not None:
        return forwarded
    require_this_unit(pioreactor_unit)
    return submit_task(f"{TASKS}:stop_jobs", {"job_name": job_name, "experiment": experiment})


def api_stop_experiment(pioreactor_unit: str, experiment: str) -> Any:
    """Stop every job of a unit in an experiment."""
    forwarded = _forwarded(pioreactor_unit, experiment, "POST", "/unit_api/jobs/stop", {"experiment": experiment})
    if forwarded is not None:
        return forwarded
    require_this_unit(pioreactor_unit)
    return submit_task(f"{TASKS}:stop_jobs", {"experiment": experiment})


def api_stop_all(pioreactor_unit: str) -> Any:
    """Stop every job of a unit."""
    forwarded = _forwarded(pioreactor_unit, None, "POST", "/unit_api/jobs/stop/all")
    if forwarded is not None:
        return forwarded
    require_this_unit(pioreactor_unit)
    return submit_task(f"{TASKS}:stop_jobs", {"all_jobs": True})


# -- settings ------------------------------------------------------------------------------------
def _encode(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    return json.dumps(value)


def _publish_settings(unit: str, experiment: str, job_name: str, settings: dict[str, Any]) -> dict[str, Any]:
    if not settings:
        raise ApiError(400, "field 'settings' is empty", remediation='Send {"settings": {"target_rpm": 400}}.')
    for name in settings:
        if not SETTING_NAME.match(name):
            raise ApiError(400, f"setting {name!r} is not a setting name", remediation="Use names like target_rpm.")
    for name, value in settings.items():
        publish(f"pioreactor/{unit}/{experiment}/{job_name}/{name}/set", _encode(value), qos=1)
    return {"unit": unit, "experiment": experiment, "job_name": job_name, "settings": settings}


def update_job(job_name: str) -> Any:
    """Change settings of a running job of this unit: ``{"settings": {"target_rpm": 400}}`` (and
    ``experiment`` if it is not the running job's). Sent over MQTT; the job confirms there."""
    body = json_body({"settings": dict}, optional={"experiment": str})
    experiment = body.get("experiment")
    if experiment is None:
        running = _running(job_name=job_name)
        if not running:
            raise ApiError(
                404, f"{job_name} is not running on {unit_name()}", remediation="Start it, or give the experiment."
            )
        experiment = running[0]["experiment"]
    return _publish_settings(unit_name(), experiment, job_name, body["settings"])


def api_update_job(pioreactor_unit: str, job_name: str, experiment: str) -> Any:
    """Change settings of a job on a unit (``$broadcast``: every unit): ``{"settings": {...}}``.
    Published on MQTT at once (202: the job confirms on its setting's topic)."""
    body = json_body({"settings": dict})
    path = f"/unit_api/jobs/update/job_name/{job_name}"
    forwarded = _forwarded(pioreactor_unit, experiment, "PATCH", path, {"settings": body["settings"], "experiment": experiment})
    if forwarded is not None:
        return forwarded
    unit = pioreactor_unit if pioreactor_unit == "$broadcast" else require_this_unit(pioreactor_unit)
    return _publish_settings(unit, experiment, job_name, body["settings"]), 202


# -- listing -------------------------------------------------------------------------------------
def running_jobs() -> Any:
    """Jobs running on this unit, with their last published settings."""
    return _running(with_settings=True)


def running_job(job_name: str) -> Any:
    """The running job of that name (a list: empty when it is not running)."""
    return _running(job_name=job_name, with_settings=True)


def running_in_experiment(experiment: str) -> Any:
    """Jobs running on this unit for an experiment."""
    return _running(experiment=experiment, with_settings=True)


def long_running_jobs() -> Any:
    """Running jobs marked long-running (web server, monitor, database streamer)."""
    from pioreactor.plugins_core.web.job_tasks import long_running_names

    names = long_running_names()
    return [job for job in _running(with_settings=True) if job.get("is_long_running") or job["job_name"] in names]


def job_history() -> Any:
    """Jobs of this unit, running or ended, newest first (``?limit=50``)."""
    return _job_history(query_int("limit", 50, minimum=1, maximum=10000))


def _settings_of(job_name: str, experiment: str | None = None) -> dict[str, Any]:
    running = _running(job_name=job_name, experiment=experiment, with_settings=True)
    if not running:
        raise ApiError(404, f"{job_name} is not running on {unit_name()}")
    return dict(running[0]["settings"])


def job_settings(job_name: str) -> Any:
    """The last published settings of a running job."""
    return {"settings": _settings_of(job_name)}


def job_setting(job_name: str, setting: str) -> Any:
    """One published setting of a running job."""
    settings = _settings_of(job_name)
    key = setting if setting in settings else f"${setting}" if f"${setting}" in settings else None
    if key is None:
        raise ApiError(404, f"{job_name} has published no setting {setting!r}", remediation=f"It has: {', '.join(settings)}.")
    return {setting: settings[key]}


def api_running_jobs(pioreactor_unit: str) -> Any:
    """Jobs running on a unit (a worker's: a task with its envelope)."""
    forwarded = _forwarded(pioreactor_unit, None, "GET", "/unit_api/jobs/running")
    if forwarded is not None:
        return forwarded
    require_this_unit(pioreactor_unit)
    return running_jobs()


def api_job_settings(pioreactor_unit: str, job_name: str, experiment: str) -> Any:
    """The published settings of a job on a unit (a worker's, or ``$broadcast``: a task with one
    envelope per unit)."""
    forwarded = _forwarded(pioreactor_unit, None, "GET", f"/unit_api/jobs/settings/job_name/{job_name}")
    if forwarded is not None:
        return forwarded
    require_this_unit(pioreactor_unit)
    return {"settings": _settings_of(job_name, experiment)}


def api_job_setting(pioreactor_unit: str, job_name: str, setting: str, experiment: str) -> Any:
    """One published setting of a job on a unit (a worker's, or ``$broadcast``: a task with one
    envelope per unit)."""
    path = f"/unit_api/jobs/settings/job_name/{job_name}/setting/{setting}"
    forwarded = _forwarded(pioreactor_unit, None, "GET", path)
    if forwarded is not None:
        return forwarded
    require_this_unit(pioreactor_unit)
    return job_setting(job_name, setting)

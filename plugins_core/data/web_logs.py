"""``/api/.../logs``: the log records the database streamer stored, paged and filtered by level,
and posting a line to the logs (over MQTT, as every other log record)."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from pioreactor.plugins_core.data.web_experiments import db
from pioreactor.plugins_core.web.api import ApiError, json_body, publish, query_int, require_this_unit
from pioreactor.sdk.database import utc_now_timestamp

LEVELS = ("NOTSET", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL")
SYSTEM_EXPERIMENT = "$experiment"
PAGE = 50
COLUMNS = "timestamp, pioreactor_unit, experiment, level, task, source, message"


def _min_level() -> list[str]:
    text = (request.args.get("min_level") or "").strip().upper()
    if not text:
        return list(LEVELS)
    if text == "WARN":
        text = "WARNING"
    if text not in LEVELS:
        raise ApiError(400, f"query parameter 'min_level' must be one of {', '.join(LEVELS)}, got {text!r}")
    return list(LEVELS[LEVELS.index(text) :])


def _query(where: list[str], args: list[Any], *, default_limit: int = PAGE) -> list[dict[str, Any]]:
    levels = _min_level()
    if len(levels) < len(LEVELS):
        where.append(f"level IN ({', '.join('?' for _ in levels)})")
        args += levels
    limit = query_int("limit", default_limit, minimum=1, maximum=10000)
    skip = query_int("skip", query_int("offset", 0, minimum=0), minimum=0)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    cursor = db().execute(
        f"SELECT {COLUMNS} FROM logs {clause} ORDER BY timestamp DESC LIMIT ? OFFSET ?", (*args, limit, skip)
    )
    return [dict(row) for row in cursor.fetchall()]


def all_logs() -> Any:
    """Log records of every unit and experiment, newest first (``?skip=&limit=&min_level=``)."""
    return _query([], [])


def experiment_logs(experiment: str) -> Any:
    """Log records of an experiment, with the units' system records (``?skip=&limit=&min_level=``)."""
    return _query(["experiment IN (?, ?)"], [experiment, SYSTEM_EXPERIMENT])


def recent_experiment_logs(experiment: str) -> Any:
    """The latest log records of an experiment (``?min_level=``)."""
    return _query(["experiment IN (?, ?)"], [experiment, SYSTEM_EXPERIMENT])


def unit_experiment_logs(pioreactor_unit: str, experiment: str) -> Any:
    """Log records of one unit in an experiment (``?skip=&limit=&min_level=``)."""
    return _query(["pioreactor_unit = ?", "experiment IN (?, ?)"], [pioreactor_unit, experiment, SYSTEM_EXPERIMENT])


def recent_unit_experiment_logs(pioreactor_unit: str, experiment: str) -> Any:
    """The latest log records of one unit in an experiment (``?min_level=``)."""
    return unit_experiment_logs(pioreactor_unit, experiment)


def unit_logs(pioreactor_unit: str) -> Any:
    """Log records of one unit, every experiment (``?skip=&limit=&min_level=``)."""
    return _query(["pioreactor_unit = ?"], [pioreactor_unit])


def unit_system_logs(pioreactor_unit: str) -> Any:
    """A unit's system log records (jobs of no experiment: web server, monitor...)."""
    return _query(["pioreactor_unit = ?", "experiment = ?"], [pioreactor_unit, SYSTEM_EXPERIMENT])


def _workers() -> list[str]:
    """The units of the cluster's inventory: a log line for one of them is published under its name
    (the broker is the leader's: the worker's log table shows it, the database stores it)."""
    from pioreactor.plugins_core.cluster.api import list_workers

    return [w["pioreactor_unit"] for w in list_workers()]


def post_log(pioreactor_unit: str, experiment: str) -> Any:
    """Add a line to the logs: ``{"message", "level" (INFO), "source" (ui), "task" (logs),
    "timestamp"}``. Published on ``pioreactor/<unit>/<experiment>/logs/<source>/<level>``, where the
    UI shows it live and the database streamer stores it."""
    body = json_body({"message": str}, optional={"level": str, "source": str, "task": str, "timestamp": str})
    unit = pioreactor_unit if pioreactor_unit in ("$broadcast", *_workers()) else require_this_unit(pioreactor_unit)
    level = (body.get("level") or "INFO").upper()
    if level not in LEVELS:
        raise ApiError(400, f"field 'level' must be one of {', '.join(LEVELS)}, got {level!r}")
    source = (body.get("source") or "ui").lower()
    if not source.replace("_", "").isalnum():
        raise ApiError(400, f"field 'source' must be a word such as 'ui', got {source!r}")
    record = {
        "message": body["message"].strip(),
        "task": body.get("task") or "logs",
        "source": source,
        "level": level,
        "timestamp": body.get("timestamp") or utc_now_timestamp(),
    }
    if not record["message"]:
        raise ApiError(400, "field 'message' is empty")
    publish(f"pioreactor/{unit}/{experiment}/logs/{source}/{level.lower()}", json.dumps(record), qos=1)
    return {"status": "published", **record}, 202

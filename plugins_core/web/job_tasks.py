"""Task bodies for the jobs routes: they run in the web server's task workers."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime
from typing import Any

from pioreactor.plugins_core.web.api import ApiError
from pioreactor.sdk.plugins import pio_command
from pioreactor.sdk.unit import pio_home, running_jobs

# how long a start is watched for an early failure (a duplicate, a bad option)
START_WATCH_SECONDS = 3.0
STOP_TIMEOUT_SECONDS = 15.0


# services of the unit; a running job also says so itself (``is_long_running`` in its record)
KNOWN_LONG_RUNNING = frozenset({"web_server", "monitor", "mqtt_to_db_streaming"})


def long_running_names() -> set[str]:
    """Jobs that ``pio kill --all-jobs`` spares (the web server, the monitor, the streamer)."""
    return set(KNOWN_LONG_RUNNING)


def _reap(process: subprocess.Popen[bytes]) -> None:
    """Collect the exit status when the job ends, so no zombie is left behind."""
    threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()


def _output_file(job_name: str) -> Any:
    """Where a started job's console output goes: ``$PIO_HOME/logs/web_jobs/<job>.out`` (its
    log records go to the unit's log file and MQTT as always)."""
    folder = pio_home() / "logs" / "web_jobs"
    folder.mkdir(parents=True, exist_ok=True)
    return open(folder / f"{job_name.replace('/', '_')}.out", "w+b")  # noqa: SIM115 (closed by the caller)


def spawn_job(job_name: str, argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Start ``pio ARGV`` in a new session; succeed once the job registered itself (or is still
    starting after ``START_WATCH_SECONDS``), fail with its output if it exits with an error first."""
    environment = dict(os.environ)
    # a job works for the experiment it is given, else for the unit's assignment: never for
    # whatever $EXPERIMENT the server itself happened to be started with
    environment.pop("EXPERIMENT", None)
    environment.update(env)
    # only errors on the console: a job running for weeks must not fill the disk with INFO lines
    argv = ["run", "--config-override", "logging", "console_log_level", "ERROR", *argv[1:]]
    output = _output_file(job_name)
    started = time.monotonic()
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # the registry's started_at format
    process = subprocess.Popen(
        pio_command(*argv),
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a restart of the web server does not take its jobs down
    )
    checks = 0
    while time.monotonic() - started < START_WATCH_SECONDS:
        code = process.poll()
        if code is not None:
            output.seek(0)
            text = output.read().decode("utf-8", "replace").strip()
            output.close()
            if code == 0:
                return {"ok": True, "job_name": job_name, "pid": process.pid, "exit_code": 0, "output": text[-2000:]}
            lines = [line for line in text.splitlines() if line.strip()]
            raise ApiError(
                400,
                f"{job_name} did not start (exit code {code})" + (f": {lines[-1]}" if lines else ""),
                cause="\n".join(lines[-10:]) or None,
            )
        checks += 1
        # the registry (an SQLite file the starting job writes too) is read every 5th tick only
        # a row that is only a claim (`pio run` holds the name, the job is not built yet) is not a start;
        # with the unit's fork server the job's pid is not the `pio run` process's: a row that
        # appeared since this spawn is ours (a second one of the same name would have been refused)
        ours = [
            job
            for job in (running_jobs(job_name=job_name) if checks % 5 == 0 else [])
            if not job.get("is_claim") and (job["pid"] == process.pid or str(job["started_at"]) >= since)
        ]
        if ours:
            _reap(process)
            output.close()
            return {"ok": True, "job_name": job_name, "pid": ours[0]["pid"], "state": "started"}
        time.sleep(0.02)
    _reap(process)
    output.close()
    return {"ok": True, "job_name": job_name, "pid": process.pid, "state": "starting"}


def stop_jobs(filters: dict[str, Any]) -> dict[str, Any]:
    """SIGTERM the running jobs matching ``filters`` (``job_name``, ``experiment``, ``job_source``,
    ``job_id`` or ``all_jobs``) and wait until they are gone. Each job switches its hardware off as
    it ends. This server and the other long-running jobs are spared unless named by job_name."""
    spared = long_running_names()
    matching = []
    for job in running_jobs():
        if job["pid"] == os.getpid():
            continue
        if filters.get("job_id") is not None and job["job_id"] != int(filters["job_id"]):
            continue
        if any(filters.get(key) and job[key] != filters[key] for key in ("job_name", "experiment", "job_source")):
            continue
        long_running = job.get("is_long_running") or job["job_name"] in spared
        if long_running and filters.get("job_name") != job["job_name"]:
            continue
        matching.append(job)
    for job in matching:
        try:
            os.kill(job["pid"], signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    pids = {job["pid"] for job in matching}
    while pids and time.monotonic() < deadline:
        pids &= {job["pid"] for job in running_jobs()}
        if pids:
            time.sleep(0.02)
    if pids:
        raise ApiError(500, f"{len(pids)} job(s) did not stop within {STOP_TIMEOUT_SECONDS:g} s", cause=f"pids {sorted(pids)}")
    return {"stopped": len(matching), "jobs": [job["job_name"] for job in matching]}

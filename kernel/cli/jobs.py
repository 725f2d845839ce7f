"""``pio kill`` and ``pio jobs list|set``: the job registry from the command line."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from dataclasses import asdict

import click
from pioreactor.kernel import identity
from pioreactor.kernel.job_registry import ALL_JOBS, JobRecord, RunningJobs, is_process_alive

STOP_TIMEOUT_SECONDS = 10.0


def terminate(records: list[JobRecord]) -> list[JobRecord]:
    """SIGTERM each job (it switches its hardware off as it ends); those still running after
    ``STOP_TIMEOUT_SECONDS``."""
    for record in records:
        try:
            os.kill(record.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    return _wait_for_exit(records, STOP_TIMEOUT_SECONDS)


def _wait_for_exit(records: list[JobRecord], timeout: float) -> list[JobRecord]:
    """Wait until the processes are gone; return those still alive after ``timeout``."""
    deadline = time.monotonic() + timeout
    alive = list(records)
    while alive and time.monotonic() < deadline:
        alive = [r for r in alive if is_process_alive(r.pid, None)]
        if alive:
            time.sleep(0.01)
    return alive


def _jobs_to_stop(
    registry: RunningJobs,
    job_name: str | None,
    experiment: str | None,
    job_source: str | None,
    job_id: int | None,
    all_jobs: bool,
) -> list[JobRecord]:
    """The running jobs the filters select, after leaving a stop request for those still starting.

    Both happen in one transaction, so a job either is in the answer or will not start."""
    registry.conn.execute("BEGIN IMMEDIATE")
    try:
        if job_id is None and experiment is None and job_source is None:
            if all_jobs:
                registry.request_stop(ALL_JOBS)
            elif job_name is not None:
                registry.request_stop(job_name)
        records = registry.running(job_name=job_name, experiment=experiment, job_source=job_source, job_id=job_id)
        registry.conn.execute("COMMIT")
    except BaseException:
        registry.conn.execute("ROLLBACK")
        raise
    if job_name is None and job_id is None:  # services go only when named
        records = [r for r in records if not r.is_long_running]
    return [r for r in records if r.pid != os.getpid()]


@click.command()
@click.option("--job-name", "--name", "job_name", help="Only jobs with this name (e.g. stirring).")
@click.option("--experiment", help="Only jobs running for this experiment.")
@click.option("--job-source", help="Only jobs started by this source (e.g. user, experiment_profile).")
@click.option("--job-id", type=int, help="Only the job with this id (the first column of `pio jobs list`).")
@click.option("--all-jobs", is_flag=True, help="Every job on this unit, except long-running ones (monitor, ...).")
def kill(
    job_name: str | None, experiment: str | None, job_source: str | None, job_id: int | None, all_jobs: bool
) -> None:
    """Stop running jobs on this unit (each gets SIGTERM and switches its hardware off).

    Give at least one filter, or --all-jobs. Jobs still starting are stopped too. Long-running
    jobs (monitor, mqtt_to_db_streaming, the web server) keep running unless named with
    --job-name or --job-id.
    """
    if experiment is not None:
        _check_experiment_option(experiment)
    if not (job_name or experiment or job_source or job_id is not None or all_jobs):
        raise click.UsageError(
            "say which jobs to stop: --job-name, --experiment, --job-source, --job-id or --all-jobs"
        )
    with RunningJobs() as registry:
        records = _jobs_to_stop(registry, job_name, experiment, job_source, job_id, all_jobs)
    stubborn = terminate(records)
    for record in stubborn:
        click.echo(f"Warning: {record.job_name} (pid {record.pid}) has not stopped yet.", err=True)
    if all_jobs:
        from pioreactor.kernel.plugins import get_plugin_host, load_config_with_plugins

        load_config_with_plugins()
        _switch_off_orphans()
        get_plugin_host().call_hook("pioreactor_all_jobs_stopped", {"unit": identity.get_unit_name()})
    click.echo(f"Killed {len(records) - len(stubborn)} job(s).")


def _check_experiment_option(experiment: str) -> None:
    from pioreactor.kernel.errors import InvalidNameError

    try:
        identity.check_experiment(experiment)
    except InvalidNameError as err:
        raise click.BadParameter(str(err), param_hint="--experiment") from None


def _switch_off_orphans() -> None:
    """What jobs that died without their clean-up left on goes off too (the monitor does this
    within seconds; this covers a unit where it does not run)."""
    from pioreactor.kernel.hardware import close_hardware
    from pioreactor.kernel.outputs import orphans
    from pioreactor.kernel.supervised_hardware import switch_off_orphan

    switched = []
    try:
        for record in orphans():
            if switch_off_orphan(record):
                switched.append(f"{record.label} (left on by {record.holder.job_name if record.holder else 'an earlier boot'})")
    except Exception as err:
        click.echo(f"Warning: could not switch off what dead jobs left on: {err}", err=True)
    finally:
        close_hardware()
    if switched:
        click.echo(f"Switched off {', '.join(switched)}.")


@click.group()
def jobs() -> None:
    """List the jobs of this unit and change their settings."""


@jobs.command("list")
@click.option("--running", is_flag=True, help="Only jobs that are running now.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with the last published settings).")
@click.option("-n", "--limit", default=50, show_default=True, type=click.IntRange(min=1), help="How many past jobs to show.")
def list_jobs(running: bool, as_json: bool, limit: int) -> None:
    """Jobs of this unit, newest first: running ones, and (without --running) past ones."""
    with RunningJobs() as registry:
        records = list(reversed(registry.running())) if running else registry.history(limit)
        settings = {r.job_id: registry.settings(r.job_id) for r in records} if as_json else {}
    if as_json:
        rows = [asdict(r) | {"settings": settings[r.job_id]} for r in records]
        click.echo(json.dumps(rows, indent=2))
        return
    if not records:
        click.echo("No running jobs." if running else "No jobs yet.")
        return
    header = (
        f"{'id':>5}  {'job':<26} {'experiment':<20} {'source':<12} {'pid':>7}  {'started (UTC)':<20} status"
    )
    click.echo(header)
    for r in records:
        status = "running" if r.is_running else f"ended {r.ended_at[:19] if r.ended_at else ''}"
        click.echo(
            f"{r.job_id:>5}  {r.job_name:<26} {r.experiment:<20} {r.job_source:<12} {r.pid:>7}  "
            f"{r.started_at[:19]:<20} {status}"
        )


def _same_value(current: str | None, requested: str) -> bool:
    """Whether the job's published value already is the requested one ("500" is "500.0")."""
    if current is None:
        return False
    current, requested = current.strip(), requested.strip()
    if current == requested:
        return True
    try:
        return float(current) == float(requested)
    except ValueError:
        pass
    words = {"true": "true", "1": "true", "on": "true", "false": "false", "0": "false", "off": "false"}
    return words.get(current.lower(), current) == words.get(requested.lower(), requested)


def _check_topic_level(what: str, value: str, *, allow_slash: bool = False) -> None:
    bad = sorted({c for c in value if c in "+#\x00" or (c == "/" and not allow_slash) or not c.isprintable()})
    if not value or bad:
        raise click.BadParameter(
            f"{value!r} cannot be a {what}: it must not be empty or contain '+', '#', "
            f"{'' if allow_slash else chr(39) + '/' + chr(39) + ', '}or control characters "
            "(one job and one setting at a time; wildcards are not allowed)",
            param_hint=what.upper().replace(" ", "_"),
        )


@jobs.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("job_name")
@click.argument("setting")
@click.argument("value")
@click.option("--experiment", help="The job's experiment [default: the running job's].")
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for the job to confirm.")
@click.option("--no-wait", is_flag=True, help="Send and return without waiting for the job to confirm.")
def set_setting(
    job_name: str, setting: str, value: str, experiment: str | None, timeout: float, no_wait: bool
) -> None:
    """Change a setting of a running job, e.g. `pio jobs set stirring target_rpm 400`.

    Waits until the job publishes the new value, and exits 1 with the job's reason if it
    refuses it (no such setting, a read-only one, a value it does not accept) or does not answer.
    A value equal to the current one succeeds at once. Negative values work: `... target_temperature -5`.
    """
    from pioreactor.kernel.bus import Bus, Message

    _check_topic_level("job name", job_name, allow_slash=True)
    _check_topic_level("setting", setting.lstrip("$"))
    setting = setting.replace("-", "_")
    if setting in ("state", "$state"):  # pio jobs set stirring state sleeping
        setting = "$state"
    if experiment is not None:
        _check_experiment_option(experiment)
    unit = identity.get_unit_name()
    current: str | None = None
    with RunningJobs() as registry:
        running = [r for r in registry.running(job_name=job_name) if experiment in (None, r.experiment)]
        if running:
            current = registry.settings(running[0].job_id).get(setting)
    if not running and experiment is None:
        raise click.ClickException(
            f"{job_name} is not running on {unit}. Start it with `pio run {job_name}`, "
            "or pass --experiment to send anyway."
        )
    experiment = running[0].experiment if running else experiment
    assert experiment is not None
    prefix = f"pioreactor/{unit}/{experiment}/{job_name}"
    echo: dict[str, str] = {}
    done = threading.Event()
    name = setting.lstrip("$")

    def on_value(message: Message) -> None:
        if not message.retain:  # the stored value arrives retained; the job's answer arrives live
            echo["value"] = message.text()
            done.set()

    def on_log(message: Message) -> None:
        try:
            record = json.loads(message.payload)
        except ValueError:
            return
        text = str(record.get("message", ""))
        if record.get("task") == job_name and (f"`{name}`" in text or f"set {name} " in text or f" {name} to " in text):
            echo["problem"] = text
            done.set()

    bus = Bus("pio-jobs-set")
    if not no_wait:
        bus.subscribe(f"{prefix}/{setting}", on_value)
        bus.subscribe(f"pioreactor/{unit}/{experiment}/logs/+/error", on_log, allow_retained=False)
        bus.subscribe(f"pioreactor/{unit}/{experiment}/logs/+/warning", on_log, allow_retained=False)
    if not bus.connect():
        bus.close()
        raise click.ClickException("cannot reach the MQTT broker; nothing was sent.")
    bus.publish(f"{prefix}/{setting}/set", value, qos=1)
    try:
        if no_wait:
            return
        if _same_value(current, value):
            click.echo(f"{job_name} {setting} = {current} (unchanged)")
            return
        if not done.wait(timeout):
            raise click.ClickException(
                f"sent, but {job_name} did not confirm {setting} within {timeout:g} s "
                f"(is it still running? `pio jobs list --running`; its log: `pio logs`)."
            )
        if "problem" in echo:
            raise click.ClickException(f"{job_name} refused: {echo['problem']}")
        click.echo(f"{job_name} {setting} = {echo['value']}")
    finally:
        bus.close()

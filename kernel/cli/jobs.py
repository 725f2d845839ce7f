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
from pioreactor.kernel.job_registry import JobRecord, RunningJobs, is_process_alive

STOP_TIMEOUT_SECONDS = 10.0


def _wait_for_exit(records: list[JobRecord], timeout: float) -> list[JobRecord]:
    """Wait until the processes are gone; return those still alive after ``timeout``."""
    deadline = time.monotonic() + timeout
    alive = list(records)
    while alive and time.monotonic() < deadline:
        alive = [r for r in alive if is_process_alive(r.pid, None)]
        if alive:
            time.sleep(0.01)
    return alive


@click.command()
@click.option("--job-name", "--name", "job_name", help="Only jobs with this name (e.g. stirring).")
@click.option("--experiment", help="Only jobs running for this experiment.")
@click.option("--job-source", help="Only jobs started by this source (e.g. user, experiment_profile).")
@click.option("--all-jobs", is_flag=True, help="Every job on this unit.")
def kill(job_name: str | None, experiment: str | None, job_source: str | None, all_jobs: bool) -> None:
    """Stop running jobs on this unit (each gets SIGTERM and switches its hardware off).

    Give at least one filter, or --all-jobs.
    """
    if not (job_name or experiment or job_source or all_jobs):
        raise click.UsageError("say which jobs to stop: --job-name, --experiment, --job-source or --all-jobs")
    with RunningJobs() as registry:
        records = registry.running(job_name=job_name, experiment=experiment, job_source=job_source)
    records = [r for r in records if r.pid != os.getpid()]
    for record in records:
        try:
            os.kill(record.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    stubborn = _wait_for_exit(records, STOP_TIMEOUT_SECONDS)
    for record in stubborn:
        click.echo(f"Warning: {record.job_name} (pid {record.pid}) has not stopped yet.", err=True)
    if all_jobs:
        from pioreactor.kernel.plugins import get_plugin_host, load_config_with_plugins

        load_config_with_plugins()
        get_plugin_host().call_hook("pioreactor_all_jobs_stopped", {"unit": identity.get_unit_name()})
    click.echo(f"Killed {len(records) - len(stubborn)} job(s).")


@click.group()
def jobs() -> None:
    """List the jobs of this unit and change their settings."""


@jobs.command("list")
@click.option("--running", is_flag=True, help="Only jobs that are running now.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with the last published settings).")
@click.option("-n", "--limit", default=50, show_default=True, help="How many past jobs to show.")
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


@jobs.command("set")
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

    Waits until the job publishes the new value (or logs why it refused it).
    """
    from pioreactor.kernel.bus import Bus, Message

    setting = setting.replace("-", "_")
    if setting in ("state", "$state"):  # pio jobs set stirring state sleeping
        setting = "$state"
    unit = identity.get_unit_name()
    if experiment is None:
        with RunningJobs() as registry:
            running = registry.running(job_name=job_name)
        if not running:
            raise click.ClickException(
                f"{job_name} is not running on {unit}. Start it with `pio run {job_name}`, "
                "or pass --experiment to send anyway."
            )
        experiment = running[0].experiment
    prefix = f"pioreactor/{unit}/{experiment}/{job_name}"
    echo: dict[str, str] = {}
    done = threading.Event()

    def on_value(message: Message) -> None:
        if not message.retain:  # the stored value arrives retained; the job's answer arrives live
            echo["value"] = message.text()
            done.set()

    def on_log(message: Message) -> None:
        try:
            record = json.loads(message.payload)
        except ValueError:
            return
        if record.get("task") == job_name and setting.lstrip("$") in record.get("message", ""):
            echo["problem"] = record["message"]
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
        if not done.wait(timeout):
            click.echo(f"Sent; {job_name} did not confirm {setting} within {timeout:g} s.", err=True)
        elif "problem" in echo:
            raise click.ClickException(f"{job_name} refused: {echo['problem']}")
        else:
            click.echo(f"{job_name} {setting} = {echo['value']}")
    finally:
        bus.close()

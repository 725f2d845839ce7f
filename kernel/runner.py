"""Runs one job in the foreground of this process until it is stopped."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click
from pioreactor.kernel import identity
from pioreactor.kernel.errors import ConfigError, PioreactorError
from pioreactor.kernel.registries import JobSpec

log = logging.getLogger("pioreactor.runner")


def prepare_config(spec: JobSpec, overrides: list[tuple[str, str, str]]) -> None:
    """Load config with every plugin's defaults and the overrides; check the job's sections."""
    from pioreactor.kernel.plugins import load_config_with_plugins

    config = load_config_with_plugins(overrides)
    sections = {
        section for (section, _), key in config.declared.items() if key.plugin in (spec.plugin, "kernel")
    }
    problems = config.validate(sections)
    if problems:
        raise ConfigError("\n".join(str(problem) for problem in problems))


@contextmanager
def claimed(name: str, *, action: bool = False) -> Iterator[None]:
    """Hold ``name`` in the job registry while a ``pio run NAME`` process starts and runs, so
    ``pio kill`` finds it before its job is built; exit at once if a kill came first. An
    ``action`` (a command rather than a job) is refused while an exclusive job runs."""
    from pioreactor.kernel.errors import JobAlreadyRunningError
    from pioreactor.kernel.job_registry import RunningJobs

    with RunningJobs() as registry:
        try:
            claim_id = registry.claim(
                unit=identity.get_unit_name(),
                experiment=identity.get_assigned_experiment(),
                job_name=name,
                job_source=identity.job_source(),
                pid=os.getpid(),
                action=action,
            )
        except JobAlreadyRunningError as err:
            click.echo(f"Error: {err}", err=True)
            sys.exit(1)
    if claim_id is None:
        click.echo(f"{name} was asked to stop (pio kill) while it was starting: not starting it.", err=True)
        sys.exit(0)
    try:
        yield
    finally:
        with RunningJobs() as registry:
            registry.release_claim(claim_id)


def defer_stop_signals() -> None:
    """Until the job installs its own handlers, a SIGTERM or SIGINT is remembered (the job then
    stops as soon as it is built, or does not start) instead of killing the process half-way."""
    if threading.current_thread() is not threading.main_thread():
        return
    from pioreactor.kernel import job

    def handler(signum: int, frame: FrameType | None) -> None:
        job.signal_before_start = f"signal {signal.Signals(signum).name}"

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)


def run_job(
    spec: JobSpec, job_class: type, options: dict[str, Any], overrides: list[tuple[str, str, str]]
) -> int:
    """Start ``job_class`` with ``options``, block until it disconnects; return the exit code."""
    from pioreactor.kernel.hardware import close_hardware

    try:
        prepare_config(spec, overrides)
    except PioreactorError as err:
        click.echo(f"Error: {err}", err=True)
        return 1
    unit = identity.get_unit_name()
    if not getattr(job_class, "long_running", False) and not identity.is_active():
        click.echo(
            f"Error: unit {unit} is not active. Activate it, or run with ACTIVE=1 pio run ...", err=True
        )
        return 1
    experiment = identity.get_assigned_experiment()
    try:
        job = job_class(unit, experiment, **options)
    except PioreactorError as err:
        click.echo(f"Error: {err}", err=True)
        return 1
    except (KeyboardInterrupt, SystemExit):
        return 0
    except Exception as err:
        log.debug("start-up failed", exc_info=True)
        click.echo(f"Error: {job_class.job_name} failed to start: {type(err).__name__}: {err}", err=True)  # type: ignore[attr-defined]
        return 1
    try:
        job.block_until_disconnected()
    except (KeyboardInterrupt, SystemExit):
        job.clean_up(reason="interrupted")
    finally:
        close_hardware()
    sys.stdout.flush()
    return int(getattr(job, "exit_code", 0))

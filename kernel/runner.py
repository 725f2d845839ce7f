"""Runs one job in the foreground of this process until it is stopped."""

from __future__ import annotations

import atexit
import contextlib
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
    from pioreactor.kernel.config import protected_config_reason
    from pioreactor.kernel.plugins import load_config_with_plugins

    if identity.job_source() == "experiment_profile":  # a shared file must not redirect paths or the broker
        for section, key, _ in overrides:
            reason = protected_config_reason(section, key)
            if reason:
                raise ConfigError(f"--config-override {section} {key}: {reason}")
    config = load_config_with_plugins(overrides)
    problems = config.validate(config.sections_declared_by((spec.plugin, "kernel")))
    if problems:
        raise ConfigError("\n".join(str(problem) for problem in problems))


class _Claim:
    """This process's claim of its job's name (one per ``pio run`` process)."""

    job_id: int | None = None
    name = ""
    ran = False
    # the claim's registry connection stays open until the claim is released: the job's own
    # connection is then never the last one to close, and closing the last one checkpoints the
    # registry's WAL (writes and an fsync) in the middle of the job's start or stop
    registry: Any = None


def claim_early(name: str) -> None:
    """``pio run NAME ...``: claim NAME before the job's module is imported, so that ``pio kill``
    sees the job from the process's first moments; exit at once if a kill came first. A stop
    signal from now on is held until the job can act on it (``defer_stop_signals``)."""
    defer_stop_signals()
    _claim(name)


def _claim(name: str) -> None:
    from pioreactor.kernel import job_registry

    registry = job_registry.RunningJobs()
    try:
        claim_id = registry.claim(
            unit=identity.get_unit_name(),
            experiment=identity.get_assigned_experiment(),
            job_name=name,
            job_source=identity.job_source(),
            pid=os.getpid(),
        )
    except BaseException:
        registry.close()
        raise
    if claim_id is None:
        registry.close()
        click.echo(f"{name} was asked to stop (pio kill) while it was starting: not starting it.", err=True)
        sys.exit(0)
    _Claim.job_id, _Claim.name, _Claim.ran, _Claim.registry = claim_id, name, False, registry
    job_registry.lend(registry)
    atexit.register(_release_claim)


def _release_claim() -> None:
    if _Claim.job_id is None:
        return
    from pioreactor.kernel import job_registry

    job_registry.lend(None)
    with _Claim.registry or job_registry.RunningJobs() as registry:
        registry.release_claim(_Claim.job_id, ran=_Claim.ran)
    _Claim.job_id = _Claim.registry = None


@contextmanager
def claimed(name: str, *, action: bool = False) -> Iterator[None]:
    """The ``pio run NAME`` command runs: hold NAME in the job registry until it returns (the
    claim ``main()`` made, or one made now when the command is invoked otherwise). An ``action``
    (a command rather than a job) is refused while an exclusive job runs."""
    from pioreactor.kernel.errors import JobAlreadyRunningError
    from pioreactor.kernel.job_registry import RunningJobs

    owned = _Claim.job_id is None
    if owned:
        _claim(name)
    _Claim.ran = True
    if action:
        stop_signals_act_now()
        try:
            with contextlib.nullcontext(_Claim.registry) if _Claim.registry else RunningJobs() as registry:
                registry.refuse_if_exclusive_runs(unit=identity.get_unit_name(), job_name=name, pid=os.getpid())
        except JobAlreadyRunningError as err:
            click.echo(f"Error: {err}", err=True)
            sys.exit(1)
    try:
        yield
    finally:
        if owned:
            _release_claim()


def stop_signals_act_now() -> None:
    """An action is a plain command: SIGTERM and SIGINT stop it as they stop any program (and
    one that came while it started stops it now)."""
    from pioreactor.kernel import job

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if job.signal_before_start:
        click.echo(f"Stopped ({job.signal_before_start}) while starting.", err=True)
        sys.exit(0)


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
    from pioreactor.kernel import outputs, storage
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
    # from here on this thread only waits (timers, MQTT and the clean-up run in threads of their
    # own): its storage connections would sit idle, holding their caches, until the job ends
    # (those of a store the job keeps open stay)
    outputs.forget_connections()
    storage.close_idle_connections_of_this_thread()
    try:
        job.block_until_disconnected()
    except (KeyboardInterrupt, SystemExit):
        job.clean_up(reason="interrupted")
    finally:
        close_hardware()
    sys.stdout.flush()
    return int(getattr(job, "exit_code", 0))

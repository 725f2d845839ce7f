"""Runs one job in the foreground of this process until it is stopped."""

from __future__ import annotations

import logging
import sys
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
    sections = {
        section for (section, _), key in config.declared.items() if key.plugin in (spec.plugin, "kernel")
    }
    problems = config.validate(sections)
    if problems:
        raise ConfigError("\n".join(str(problem) for problem in problems))


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
    if not identity.is_active():
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

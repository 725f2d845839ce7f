"""``pio run experiment_profile verify FILE`` and ``... execute FILE --experiment E [--dry-run]``."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _resolve(filename: str) -> Path:
    """A path, or the name of a file in ``$PIO_HOME/experiment_profiles`` (with or without .yaml)."""
    from pioreactor.plugins_core.profiles.interfaces import experiment_profiles_dir

    path = Path(filename).expanduser()
    if path.exists():
        return path
    folder = experiment_profiles_dir()
    for candidate in (folder / filename, folder / f"{filename}.yaml", folder / f"{filename}.yml"):
        if candidate.exists():
            return candidate
    raise click.BadParameter(f"no file {filename} (nor in {folder})", param_hint="FILE")


@click.group()
def experiment_profile() -> None:
    """Verify or execute an experiment profile: a YAML file of jobs to start, change and stop over time.

    `verify FILE` checks it; `execute FILE --experiment E` runs it (`--dry-run` prints its timeline).
    FILE may also be the name of a file in ~/.pioreactor/experiment_profiles.
    """


@experiment_profile.command()
@click.argument("filename", metavar="FILE")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
def verify(filename: str, strict: bool) -> None:
    """Check a profile: its YAML, its fields, its expressions, its jobs and their options.

    Prints each problem with its line and column; exits 1 if there is an error (with --strict,
    a warning too).
    """
    from pioreactor.plugins_core.profiles.validate import check_text

    path = _resolve(filename)
    profile, problems, document = check_text(path.read_text(encoding="utf-8"), filename)
    for problem in problems:
        click.echo(problem.format(document))
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if errors or (strict and warnings):
        click.echo(f"{filename}: {errors} error(s), {warnings} warning(s).", err=True)
        sys.exit(1)
    assert profile is not None
    units = ["every unit (common)"] if profile.common else []
    units += list(profile.units)
    summary = f"{filename}: profile {profile.name!r} is valid"
    summary += f" ({'format ' + profile.version if profile.version else 'older format'}"
    summary += f", {profile.action_count()} action(s) for {', '.join(units) or 'no unit'})"
    click.echo(summary + (f", with {warnings} warning(s)." if warnings else "."))


@experiment_profile.command()
@click.argument("filename", metavar="FILE")
@click.argument("experiment_argument", metavar="[EXPERIMENT]", required=False)
@click.option("--experiment", help="The experiment to run it in [default: this unit's experiment].")
@click.option("--dry-run", is_flag=True, help="Print the timeline; start nothing.")
def execute(filename: str, experiment_argument: str | None, experiment: str | None, dry_run: bool) -> None:
    """Run a profile in an experiment until its last action (Ctrl-C stops it and the jobs it started)."""
    from pioreactor.plugins_core.profiles.problems import ProfileError
    from pioreactor.plugins_core.profiles.validate import load_profile
    from pioreactor.sdk import InvalidNameError, check_experiment_name, get_assigned_experiment, get_unit_name

    if experiment and experiment_argument and experiment != experiment_argument:
        raise click.UsageError(f"two experiments given: {experiment_argument} and --experiment {experiment}")
    experiment = experiment or experiment_argument or get_assigned_experiment()
    try:
        check_experiment_name(experiment)
    except InvalidNameError as err:
        raise click.BadParameter(str(err), param_hint="EXPERIMENT") from None
    path = _resolve(filename)
    try:
        profile, warnings = load_profile(path)
    except ProfileError as err:
        click.echo(err.report(), err=True)
        click.echo(f"{filename}: not executed: fix the error(s) above (`pio run experiment_profile verify {filename}`).", err=True)
        sys.exit(1)
    for warning in warnings:
        click.echo(warning.format(profile.document), err=True)
    if dry_run:
        from pioreactor.plugins_core.profiles.interfaces import job_interface
        from pioreactor.plugins_core.profiles.timeline import render
        from pioreactor.sdk.plugins import is_unit_active

        unit = get_unit_name()
        click.echo(render(profile, str(path), experiment, [unit] if is_unit_active() else [], unit, _interfaces(job_interface)))
        return
    from pioreactor.plugins_core.profiles.executor import execute as run

    sys.exit(run(profile, str(path), experiment))


def _interfaces(job_interface: object) -> object:
    from pioreactor.plugins_core.profiles.interfaces import automation_interface

    def lookup(job: str, options: dict) -> object:
        interface = job_interface(job)  # type: ignore[operator]
        name = options.get("automation_name")
        if interface is not None and interface.automation_kind and name is not None:
            return automation_interface(interface.automation_kind, str(name)) or interface
        return interface

    return lookup

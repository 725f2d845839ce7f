"""``pios``: one command on every worker at once, over HTTP to their ``/unit_api``.

Each unit gets one line (ok, or the error); a worker that is down is reported unreachable
within ``[pios] request_timeout_seconds``; the exit code is 1 when any unit failed.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from pioreactor.plugins_core.cluster.fanout import fan_out
from pioreactor.plugins_core.cluster.inventory import InventoryError

UNITS = click.option("--units", "units", multiple=True, help="Only these units (repeatable); default: every active worker.")
YES = click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")


def _targets(units: tuple[str, ...], *, active_only: bool = True) -> dict[str, str]:
    """``{unit: address}``: ``units``, else every active worker (every worker of the inventory
    with ``active_only=False``, as upstream does for cp, rm, plugins, sync-configs, reboot and
    shutdown). An unknown unit is an error naming it."""
    from pioreactor.plugins_core.cluster.api import worker_addresses

    try:
        targets = worker_addresses(active_only=active_only, units=list(units) or None)
    except InventoryError as err:
        raise click.ClickException(str(err)) from None
    if not targets:
        which = "active workers" if active_only else "workers"
        raise click.ClickException(f"no {which}; add one with `pio workers add NAME --address HOST[:PORT]`")
    return targets


def _report(results: dict[str, dict[str, Any]], describe_ok: Any = None) -> None:
    failed = False
    for unit in sorted(results):
        result = results[unit]
        if result["ok"]:
            detail = describe_ok(result["value"]) if describe_ok else ""
            click.echo(f"{unit}: ok{f' ({detail})' if detail else ''}")
        else:
            failed = True
            click.echo(f"{unit}: failed: {result['error']['message']}")
    sys.exit(1 if failed else 0)


def _extra_options(args: list[str]) -> dict[str, Any]:
    """``--target-rpm 400 --flag`` as ``{"target_rpm": "400", "flag": True}``."""
    options: dict[str, Any] = {}
    index = 0
    while index < len(args):
        word = args[index]
        if not word.startswith("--"):
            raise click.UsageError(f"unexpected argument {word!r}: options look like --name VALUE")
        name = word[2:].replace("-", "_")
        if "=" in name:
            name, _, value = name.partition("=")
            options[name] = value
        elif index + 1 < len(args) and not args[index + 1].startswith("--"):
            options[name] = args[index + 1]
            index += 1
        else:
            options[name] = True
        index += 1
    return options


def _experiment_of(unit: str) -> str | None:
    """The experiment the leader assigned ``unit`` to, else this shell's $EXPERIMENT."""
    import os

    from pioreactor.plugins_core.data.api import assigned_experiment

    return assigned_experiment(unit) or os.environ.get("EXPERIMENT") or None


def _confirm(what: str, targets: dict[str, str], yes: bool) -> None:
    if not yes and sys.stdin.isatty():
        click.confirm(f"{what} on {', '.join(sorted(targets))}?", abort=True)


@click.group()
@click.pass_context
def pios(ctx: click.Context) -> None:
    """Run commands on every worker of the cluster (from the leader)."""
    from pioreactor.sdk import get_leader_hostname, get_unit_name

    leader, me = get_leader_hostname(), get_unit_name()
    if ctx.invoked_subcommand is not None and leader != me:
        raise click.ClickException(
            f"workers cannot run `pios` commands: this unit is {me!r}, the leader is {leader!r} "
            "([cluster] leader_hostname). Run it on the leader, or use `pio` here."
        )


@pios.command("run", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("job")
@UNITS
@YES
@click.option("--experiment", default=None, help="Default: each unit's assigned experiment, else $EXPERIMENT.")
@click.pass_context
def run(ctx: click.Context, job: str, units: tuple[str, ...], yes: bool, experiment: str | None) -> None:
    """Start JOB on the workers; the other options go to the job (--target-rpm 400)."""
    options = _extra_options(list(ctx.args))
    if "unit" in options:
        raise click.UsageError("there is no --unit: did you mean --units NAME (repeatable)?")
    targets = _targets(units)
    _confirm(f"Start {job}", targets, yes)

    experiments = {unit: experiment or _experiment_of(unit) for unit in targets}

    def request(unit: str) -> tuple[str, str, Any]:
        body: dict[str, Any] = {"options": options}
        if experiments[unit]:
            body["env"] = {"EXPERIMENT": experiments[unit]}
        return "POST", f"/unit_api/jobs/run/job_name/{job}", body

    _report(fan_out(targets, request), lambda value: f"pid {value['pid']}" if isinstance(value, dict) and "pid" in value else "")


@pios.command("kill")
@click.option("--all-jobs", is_flag=True, help="Every job (the web server and other long-running ones are spared).")
@click.option("--job-name", "--name", "job_names", multiple=True, help="Jobs of this name (repeatable).")
@click.option("--experiment", default=None, help="Only jobs of this experiment.")
@click.option("--job-source", default=None, help="Only jobs started by this source (user, experiment_profile, ...).")
@UNITS
@YES
def kill(
    all_jobs: bool, job_names: tuple[str, ...], experiment: str | None, job_source: str | None, units: tuple[str, ...], yes: bool
) -> None:
    """Stop jobs on the workers."""
    if not (all_jobs or job_names or experiment or job_source):
        raise click.UsageError("say which jobs: --all-jobs, --job-name NAME, --experiment NAME or --job-source SOURCE")
    targets = _targets(units)
    _confirm("Stop jobs", targets, yes)
    names: list[str | None] = [*job_names] or [None]

    def request_for(name: str | None) -> Any:
        def request(unit: str) -> tuple[str, str, Any]:
            if all_jobs and not (experiment or job_source):
                return "POST", "/unit_api/jobs/stop/all", None
            body = {k: v for k, v in {"job_name": name, "experiment": experiment, "job_source": job_source}.items() if v}
            return "POST", "/unit_api/jobs/stop", body

        return request

    merged: dict[str, dict[str, Any]] = {}
    for name in names:
        for unit, result in fan_out(targets, request_for(name)).items():
            if unit not in merged or not result["ok"]:
                merged[unit] = result
    _report(merged)


@pios.command("update-settings", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("job")
@UNITS
@click.option("--experiment", default=None, help="Default: the experiment the job runs in on each unit.")
@click.pass_context
def update_settings(ctx: click.Context, job: str, units: tuple[str, ...], experiment: str | None) -> None:
    """Change settings of JOB on the workers: pios update-settings stirring --target-rpm 500."""
    settings = _extra_options(list(ctx.args))
    if not settings:
        raise click.UsageError("give at least one setting: --SETTING VALUE")
    targets = _targets(units)

    def request(unit: str) -> tuple[str, str, Any]:
        body: dict[str, Any] = {"settings": settings}
        if experiment:
            body["experiment"] = experiment
        return "PATCH", f"/unit_api/jobs/update/job_name/{job}", body

    _report(fan_out(targets, request))


@pios.command("sync-configs")
@UNITS
@click.option("--shared", is_flag=True, help="Only the shared config.ini.")
@click.option("--specific", is_flag=True, help="Only each unit's unit_config.ini.")
@click.option("--skip-save", is_flag=True, help="Do not keep this version in the config history.")
@YES
def sync_configs(units: tuple[str, ...], shared: bool, specific: bool, skip_save: bool, yes: bool) -> None:
    """Push the leader's shared config.ini and each unit's config_<unit>.ini (as its
    unit_config.ini) to the workers; neither --shared nor --specific: both."""
    from pioreactor.plugins_core.cluster.configs import unit_specific_config
    from pioreactor.plugins_core.cluster.sync import push_configs, shared_config_text

    both = not (shared or specific)
    targets = _targets(units, active_only=False)
    if not skip_save:
        from pioreactor.plugins_core.web.api import record_config_history

        if both or shared:
            record_config_history("config.ini", shared_config_text())
        for unit in targets if both or specific else ():
            text = unit_specific_config(unit)
            if text is not None:
                record_config_history(f"config_{unit}.ini", text)
    results = push_configs(targets, shared=both or shared, specific=both or specific)
    _report(results, lambda value: "received " + ", ".join(value) if value else "nothing to push")


def _home_relative(filepath: str) -> str:
    """FILEPATH as a path relative to this unit's $PIO_HOME (where every unit keeps its files);
    an error for a file outside it, a folder, or a missing file."""
    from pathlib import Path

    from pioreactor.sdk.unit import pio_home

    home = Path(pio_home()).resolve()
    path = Path(filepath).expanduser()
    path = (path if path.is_absolute() else Path.cwd() / path).resolve()
    if home not in path.parents:
        raise click.ClickException(f"{filepath} is outside $PIO_HOME ({home}); pios copies and removes files under it only")
    return path.relative_to(home).as_posix()


@pios.command("cp")
@click.argument("filepath")
@UNITS
@YES
def cp(filepath: str, units: tuple[str, ...], yes: bool) -> None:
    """Copy FILEPATH (under $PIO_HOME) to the same place under each worker's $PIO_HOME."""
    import base64
    from pathlib import Path

    relative = _home_relative(filepath)
    source = Path(filepath).expanduser().resolve()
    if not source.is_file():
        raise click.ClickException(f"{filepath} is not a file")
    content = base64.b64encode(source.read_bytes()).decode()
    targets = _targets(units, active_only=False)
    _confirm(f"Copy {relative}", targets, yes)
    body = {"path": relative, "content_base64": content}
    _report(fan_out(targets, lambda unit: ("PUT", "/unit_api/system/files", body)), lambda v: f"{v['bytes']} bytes")


@pios.command("rm")
@click.argument("filepath")
@UNITS
@YES
def rm(filepath: str, units: tuple[str, ...], yes: bool) -> None:
    """Remove FILEPATH (under $PIO_HOME) from the same place under each worker's $PIO_HOME."""
    from urllib.parse import quote

    relative = _home_relative(filepath)
    targets = _targets(units, active_only=False)
    _confirm(f"Remove {relative}", targets, yes)
    _report(fan_out(targets, lambda unit: ("DELETE", f"/unit_api/system/files?path={quote(relative)}", None)))


@pios.group("plugins")
def plugins() -> None:
    """Install or uninstall a plugin on the workers."""


def _plugin_command(action: str, name: str, units: tuple[str, ...], yes: bool) -> None:
    targets = _targets(units, active_only=False)
    _confirm(f"{action.capitalize()} {name}", targets, yes)
    # pip may take minutes: the task is waited for that long, each worker in parallel
    results = fan_out(targets, lambda unit: ("POST", f"/unit_api/plugins/{action}", {"args": [name]}), task_timeout=600.0)
    _report(results)


@plugins.command("install")
@click.argument("name")
@UNITS
@YES
def plugins_install(name: str, units: tuple[str, ...], yes: bool) -> None:
    """Install plugin NAME (a package name, optionally ==version) on the workers."""
    _plugin_command("install", name, units, yes)


@plugins.command("uninstall")
@click.argument("name")
@UNITS
@YES
def plugins_uninstall(name: str, units: tuple[str, ...], yes: bool) -> None:
    """Uninstall plugin NAME from the workers."""
    _plugin_command("uninstall", name, units, yes)


def _power(action: str, units: tuple[str, ...], yes: bool) -> None:
    """Reboot or shut down: the workers in parallel, the leader last if it is one of them."""
    from pioreactor.sdk import get_unit_name

    targets = _targets(units, active_only=False)
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError(f"{action} asks for confirmation: add -y to {action} without a terminal")
        click.confirm(f"{action.capitalize()} {', '.join(sorted(targets))}?", abort=True)
    me = get_unit_name()
    results = fan_out({u: a for u, a in targets.items() if u != me}, lambda unit: ("POST", f"/unit_api/system/{action}", None))
    if me in targets:
        results.update(fan_out({me: targets[me]}, lambda unit: ("POST", f"/unit_api/system/{action}", None)))
    _report(results, lambda value: value.get("result", "") if isinstance(value, dict) else "")


@pios.command("reboot")
@UNITS
@YES
def reboot(units: tuple[str, ...], yes: bool) -> None:
    """Reboot the workers (a simulated unit only records it); asks unless -y."""
    _power("reboot", units, yes)


@pios.command("shutdown")
@UNITS
@YES
def shutdown(units: tuple[str, ...], yes: bool) -> None:
    """Shut the workers down (a simulated unit only records it); asks unless -y."""
    _power("shutdown", units, yes)


def main() -> None:
    pios(prog_name="pios")

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


def _targets(units: tuple[str, ...]) -> dict[str, str]:
    from pioreactor.plugins_core.cluster.api import worker_addresses

    try:
        targets = worker_addresses(active_only=True, units=list(units) or None)
    except InventoryError as err:
        raise click.ClickException(str(err)) from None
    if not targets:
        raise click.ClickException("no active workers; add one with `pio workers add NAME --address HOST[:PORT]`")
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

    from pioreactor.plugins_core.cluster.inventory import assigned_experiment

    return assigned_experiment(unit) or os.environ.get("EXPERIMENT") or None


def _confirm(what: str, targets: dict[str, str], yes: bool) -> None:
    if not yes and sys.stdin.isatty():
        click.confirm(f"{what} on {', '.join(sorted(targets))}?", abort=True)


@click.group()
def pios() -> None:
    """Run commands on every worker of the cluster (from the leader)."""


@pios.command("run", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("job")
@UNITS
@YES
@click.option("--experiment", default=None, help="Default: each unit's assigned experiment, else $EXPERIMENT.")
@click.pass_context
def run(ctx: click.Context, job: str, units: tuple[str, ...], yes: bool, experiment: str | None) -> None:
    """Start JOB on the workers; the other options go to the job (--target-rpm 400)."""
    options = _extra_options(list(ctx.args))
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
@click.option("--job-name", "job_names", multiple=True, help="Jobs of this name (repeatable).")
@click.option("--experiment", default=None, help="Only jobs of this experiment.")
@UNITS
@YES
def kill(all_jobs: bool, job_names: tuple[str, ...], experiment: str | None, units: tuple[str, ...], yes: bool) -> None:
    """Stop jobs on the workers."""
    if not (all_jobs or job_names or experiment):
        raise click.UsageError("say which jobs: --all-jobs, --job-name NAME or --experiment NAME")
    targets = _targets(units)
    _confirm("Stop jobs", targets, yes)
    names: list[str | None] = [*job_names] or [None]

    def request_for(name: str | None) -> Any:
        def request(unit: str) -> tuple[str, str, Any]:
            if all_jobs and not experiment:
                return "POST", "/unit_api/jobs/stop/all", None
            body = {k: v for k, v in {"job_name": name, "experiment": experiment}.items() if v}
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
def sync_configs(units: tuple[str, ...]) -> None:
    """Push the leader's shared config.ini and each unit's unit_config.ini to the workers."""
    from pioreactor.plugins_core.cluster.configs import unit_specific_config

    targets = _targets(units)
    texts = {unit: unit_specific_config(unit) for unit in targets}
    pushed = {unit: address for unit, address in targets.items() if texts[unit] is not None}
    results = fan_out(pushed, lambda unit: ("PUT", "/unit_api/config/specific", {"code": texts[unit]}))
    for unit in targets:
        if unit not in pushed:
            results[unit] = {"ok": True, "unit": unit, "value": "nothing to push: the leader keeps no config for it"}
    _report(results, lambda value: value if isinstance(value, str) else "")


def main() -> None:
    pios(prog_name="pios")

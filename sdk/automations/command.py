"""``pio run <kind>_automation --automation-name NAME [options]``.

The automation's own options come from its class (keyword-only ``__init__`` parameters, along
the hierarchy), so ``pio run temperature_automation --automation-name thermostat --help`` shows
``--target-temperature``.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

import click


def _registry() -> Any:
    from pioreactor.kernel.plugins import get_plugin_host
    from pioreactor.kernel.registries.targets import AutomationRegistry

    return get_plugin_host().registry(AutomationRegistry)


def automation_command(kind: str) -> click.Command:
    """The click command of the ``<kind>_automation`` job."""

    @click.command(
        name=f"{kind}_automation",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
        add_help_option=False,
    )
    @click.option("--automation-name", help=f"Which {kind} automation to run (see the list below).")
    @click.option("-h", "--help", "show_help", is_flag=True, help="Show this message (with --automation-name: its options).")
    @click.pass_context
    def command(ctx: click.Context, automation_name: str | None, show_help: bool) -> None:
        from pioreactor.kernel.cli.job_command import options_for
        from pioreactor.kernel.errors import PioreactorError

        automations = _registry().of_kind(kind)
        if automation_name is None:
            lines = [f"  {name:<28} {spec.summary}" for name, spec in automations.items()]
            message = (
                f"Usage: pio run {kind}_automation --automation-name NAME [OPTIONS]\n\n"
                f"Run a {kind} automation until it is stopped.\n\nAutomations:\n"
                + ("\n".join(lines) or "  (none registered)")
                + f"\n\n`pio run {kind}_automation --automation-name NAME --help` shows an automation's options."
            )
            if show_help:
                click.echo(message)
                return
            raise click.UsageError("--automation-name is required.\n\n" + message, ctx)
        try:
            spec = _registry().get(kind, automation_name)
            automation_class = spec.load()
        except PioreactorError as err:
            raise click.UsageError(str(err), ctx) from None
        info_name = f"--automation-name {automation_name}"
        inner = click.Command(
            info_name,
            params=list(options_for(automation_class)),
            help=(inspect.getdoc(automation_class) or spec.summary or "").split(":param")[0].strip(),
        )
        if show_help:
            with inner.make_context(info_name, [], parent=ctx, resilient_parsing=True) as inner_ctx:
                click.echo(inner.get_help(inner_ctx))
            return
        inner_ctx = inner.make_context(info_name, list(ctx.args), parent=ctx)
        from pioreactor.kernel.runner import run_job

        overrides = (ctx.obj or {}).get("config_overrides", [])
        sys.exit(run_job(spec, automation_class, dict(inner_ctx.params), overrides))

    command.help = f"Run a {kind} automation (--automation-name NAME); --help lists them."
    return command

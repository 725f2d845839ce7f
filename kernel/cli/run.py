"""``pio run``: every job and action that plugins registered, listed without importing them."""

from __future__ import annotations

from typing import Any

import click
from pioreactor.kernel.errors import JobNotFoundError, PioreactorError


class RunGroup(click.Group):
    def _jobs(self) -> Any:
        from pioreactor.kernel.discovery import job_listing

        return job_listing()

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._jobs().names()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from pioreactor.kernel.cli.job_command import command_for
        from pioreactor.kernel.discovery import LOCAL_MODULE_PREFIX
        from pioreactor.kernel.plugins import get_plugin_host

        try:
            spec = self._jobs().get(cmd_name)
        except JobNotFoundError as err:
            raise click.UsageError(str(err), ctx) from None
        if spec.target.startswith(LOCAL_MODULE_PREFIX):
            get_plugin_host()  # single-file plugins are importable once discovery has loaded them
        try:
            return command_for(spec)
        except PioreactorError as err:
            raise click.ClickException(str(err)) from None
        except Exception as err:
            raise click.ClickException(
                f"job {cmd_name!r} of plugin {spec.plugin!r} cannot be loaded from {spec.target}: "
                f"{type(err).__name__}: {err}"
            ) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        jobs = self._jobs()
        rows = [(name, jobs.get(name).summary) for name in jobs.names()]
        with formatter.section("Jobs and actions"):
            if rows:
                formatter.write_dl(rows)
            else:
                formatter.write_text("(none registered: is a plugin providing jobs installed?)")

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PioreactorError as err:
            raise click.ClickException(str(err)) from None


@click.group(cls=RunGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config-override",
    nargs=3,
    multiple=True,
    metavar="SECTION KEY VALUE",
    help="Override one config value for this run, e.g. --config-override stirring.config pwm_hz 100.",
)
@click.pass_context
def run(ctx: click.Context, config_override: tuple[tuple[str, str, str], ...]) -> None:
    """Run a job or action in the foreground until it is stopped (Ctrl-C, `pio kill`, or over MQTT).

    Each job's options are in `pio run JOB --help`.
    """
    # applied when the job starts (see kernel.runner), so `pio run JOB --help` loads no plugin
    ctx.obj = {"config_overrides": list(config_override)}

"""The ``pio`` click group. Subcommands live in their own modules and are imported only when
used, so ``pio --help`` stays fast; ``pio run`` lists whatever plugins registered. The console
script's entry point is ``pioreactor.kernel.cli:main``, which tries the fork server first."""

from __future__ import annotations

import atexit
import importlib
import os
import sys
from typing import Any

import click
from pioreactor.kernel.errors import PioreactorError
from pioreactor.kernel.version import __version__

# name -> ("module:attribute", summary shown by `pio --help` without importing the module)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("pioreactor.kernel.cli.run:run", "Run a job or action registered by a plugin."),
    "kill": ("pioreactor.kernel.cli.jobs:kill", "Stop running jobs on this unit."),
    "jobs": ("pioreactor.kernel.cli.jobs:jobs", "List jobs and change their settings."),
    "plugins": ("pioreactor.kernel.cli.plugins:plugins", "List, check, create, install and uninstall plugins."),
    "mqtt": ("pioreactor.kernel.cli.mqtt:mqtt", "Print MQTT messages as they arrive."),
    "log": ("pioreactor.kernel.cli.logs:log", "Write a message to the unit's log."),
    "logs": ("pioreactor.kernel.cli.logs:logs", "Show the unit's log file."),
    "version": ("pioreactor.kernel.cli.misc:version", "Print the software version."),
    "fork-server": ("pioreactor.kernel.cli.fork_server:fork_server", "Start, stop or check the unit's warm fork server."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use; errors print as one clear line."""

    def __init__(
        self, *args: Any, lazy: dict[str, tuple[str, str]] | None = None, with_plugins: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}
        self.with_plugins = with_plugins

    def plugin_commands(self) -> dict[str, Any]:
        if not self.with_plugins:
            return {}
        from pioreactor.kernel.discovery import command_listing

        return dict(command_listing().entries)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy) | set(self.plugin_commands()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, _, attribute = self.lazy[cmd_name][0].partition(":")
            command: click.Command = getattr(importlib.import_module(module_name), attribute)
            return command
        spec = self.plugin_commands().get(cmd_name)
        if spec is not None:
            loaded: click.Command = spec.load()
            return loaded
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, summary) for name, (_, summary) in sorted(self.lazy.items())]
        rows += [(name, spec.summary) for name, spec in sorted(self.plugin_commands().items())]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows))

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PioreactorError as err:
            raise click.ClickException(str(err)) from None


@click.group(
    cls=LazyGroup, lazy=SUBCOMMANDS, with_plugins=True, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, "--version", prog_name="pio", message="%(version)s")
def pio() -> None:
    """Control a Pioreactor unit: run jobs, change their settings, stop them, watch what they publish.

    Every job (stirring, optical density, pumps, automations, ...) comes from a plugin;
    `pio run --help` lists those installed here.
    """


def job_being_run(argv: list[str]) -> str | None:
    """NAME of ``pio run [--config-override S K V]... NAME ...``; None for anything else or --help."""
    if not argv or argv[0] != "run" or any(arg in ("-h", "--help") for arg in argv):
        return None
    rest = argv[1:]
    while rest and rest[0] == "--config-override":  # run's only option takes three values
        rest = rest[4:]
    return rest[0] if rest and not rest[0].startswith("-") else None


class _Exit:
    code: int | None = None


def _skip_teardown() -> None:
    """The last exit handler (registered first): the command is done, its exit handlers and
    threads too, so leave without tearing down every imported module, which takes longer than
    many commands (50-250 ms with a job's modules on a busy Raspberry Pi-class CPU)."""
    if _Exit.code is None:
        return  # an exception Python reports itself
    if "logging" in sys.modules:  # registered before this handler, so it would run after it
        import logging

        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(_Exit.code)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    return code if isinstance(code, int) else 1  # a message: Python has printed it already


def main() -> None:
    atexit.register(_skip_teardown)
    try:
        _main()
    except SystemExit as done:
        _Exit.code = _exit_code(done.code)
        raise


def _main() -> None:
    try:
        name = job_being_run(sys.argv[1:])
        if name is not None:
            from pioreactor.kernel.runner import claim_early

            claim_early(name)  # before the job's module is imported: `pio kill` sees it at once
        pio.main(prog_name="pio")
    except PioreactorError as err:  # raised outside a command (e.g. while listing plugins)
        click.echo(f"Error: {err}", err=True)
        sys.exit(1)
    except Exception as err:
        # the last net: a user sees one line, not a traceback; PIO_DEBUG=1 shows where it came from
        if os.environ.get("PIO_DEBUG") == "1":
            raise
        click.echo(f"Error: {type(err).__name__}: {err} (PIO_DEBUG=1 shows the traceback)", err=True)
        sys.exit(1)

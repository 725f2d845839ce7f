"""``pio version``."""

from __future__ import annotations

import platform
import sys

import click
from pioreactor.kernel.version import __version__


@click.command()
@click.option(
    "-v", "--verbose", is_flag=True, help="Also show Python, the platform and the hardware backend."
)
def version(verbose: bool) -> None:
    """Print the software version."""
    click.echo(__version__ if not verbose else f"Pioreactor software: {__version__}")
    if verbose:
        from pioreactor.kernel import identity
        from pioreactor.kernel.hardware import chosen_backend_name

        click.echo(f"Python: {sys.version.split()[0]}")
        click.echo(f"Platform: {platform.platform()}")
        click.echo(f"Unit: {identity.get_unit_name()} (leader: {identity.get_leader_hostname()})")
        click.echo(f"Hardware backend: {chosen_backend_name()}")

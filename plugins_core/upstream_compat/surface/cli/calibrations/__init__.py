"""``pioreactor.cli.calibrations``: ``calibration``, the click group behind ``pio calibrations``.

Plugins add subcommands with ``@calibration.command(name=...)``; the compat loader offers them
as ``pio run calibrations_<name>`` (our ``pio calibrations`` belongs to the calibrations plugin).
"""

from __future__ import annotations

import click
from pioreactor.cli.run import RunGroup


@click.group(cls=RunGroup, name="calibrations")
def calibration() -> None:
    """Calibrations (upstream plugins add commands here)."""


calibrations = calibration

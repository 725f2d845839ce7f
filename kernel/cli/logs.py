"""``pio log`` writes to the unit's log (file and MQTT); ``pio logs`` reads the log file."""

from __future__ import annotations

import time
from collections import deque

import click

LEVELS = ["debug", "info", "notice", "warning", "error", "critical"]


@click.command()
@click.option("-m", "--message", required=True, help="The text to log.")
@click.option("-l", "--level", type=click.Choice(LEVELS), default="info", show_default=True)
@click.option("-n", "--name", default="CLI", show_default=True, help="Who is logging (the task field).")
@click.option("--local-only", is_flag=True, help="Only the log file, not MQTT.")
def log(message: str, level: str, name: str, local_only: bool) -> None:
    """Write a message to the unit's log file and to MQTT (where the UI and database see it)."""
    import logging

    from pioreactor.kernel import identity
    from pioreactor.kernel.bus import Bus
    from pioreactor.kernel.logs import NOTICE, close_logging, get_logger, setup_logging

    unit, experiment = identity.get_unit_name(), identity.get_assigned_experiment()
    bus = None
    if not local_only:
        bus = Bus("pio-log")
        bus.connect()
    setup_logging(unit=unit, experiment=experiment, bus=bus, console=False)
    numeric = NOTICE if level == "notice" else logging.getLevelName(level.upper())
    get_logger(name).log(numeric, message)
    close_logging()
    if bus is not None:
        bus.close()


@click.command()
@click.option("-n", "--lines", default=100, show_default=True, help="How many of the last lines to show.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines as they are written.")
def logs(lines: int, follow: bool) -> None:
    """Show the end of the unit's log file ([logging] log_file)."""
    from pioreactor.kernel.logs import log_file_path

    path = log_file_path()
    if not path.exists():
        click.echo(f"No log file yet at {path}.", err=True)
        if not follow:
            return
        while not path.exists():
            time.sleep(0.25)
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in deque(handle, maxlen=lines):
            click.echo(line, nl=False)
        if not follow:
            return
        try:
            while True:
                line = handle.readline()
                if line:
                    click.echo(line, nl=False)
                else:
                    time.sleep(0.2)
        except KeyboardInterrupt:
            pass

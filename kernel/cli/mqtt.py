"""``pio mqtt``: tail the broker."""

from __future__ import annotations

import threading
from datetime import datetime

import click


@click.command()
@click.option(
    "-t",
    "--topic",
    "topics",
    multiple=True,
    default=["pioreactor/#"],
    show_default=True,
    help="Topic filter (repeatable); + and # wildcards work.",
)
@click.option("--no-retained", is_flag=True, help="Skip the retained values sent on subscribing.")
def mqtt(topics: tuple[str, ...], no_retained: bool) -> None:
    """Print MQTT messages as they arrive, one per line, until Ctrl-C."""
    from pioreactor.kernel.bus import Bus, Message

    def show(message: Message) -> None:
        stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
        click.echo(f"{stamp}  {message.topic}  {message.text()}")

    bus = Bus("pio-mqtt")
    for topic in topics:
        bus.subscribe(topic, show, qos=0, allow_retained=not no_retained)
    bus.connect()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        bus.close()

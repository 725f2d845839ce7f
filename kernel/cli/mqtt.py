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

    for topic in topics:
        problem = topic_filter_problem(topic)
        if problem:
            raise click.BadParameter(f"{topic!r}: {problem}", param_hint="-t/--topic")

    def show(message: Message) -> None:
        stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
        from pioreactor.kernel.logs import escape_controls

        click.echo(f"{stamp}  {escape_controls(message.topic)}  {escape_controls(message.text())}")

    bus = Bus("pio-mqtt")
    for topic in topics:
        bus.subscribe(topic, show, qos=0, allow_retained=not no_retained)
    bus.connect()  # an unreachable broker is retried in the background (with a warning)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        bus.close()


def topic_filter_problem(topic: str) -> str | None:
    """Why ``topic`` is not a valid MQTT topic filter, or None."""
    if not topic:
        return "a topic filter cannot be empty"
    if "\x00" in topic or len(topic.encode()) > 65535:
        return "a topic filter cannot contain NUL characters or be longer than 65535 bytes"
    levels = topic.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return "'#' must be a whole level and the last one, e.g. pioreactor/unit1/#"
        if "+" in level and level != "+":
            return "'+' must be a whole level, e.g. pioreactor/+/exp1/stirring/target_rpm"
    return None


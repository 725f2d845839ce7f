"""``pio run led_intensity --A 10 --B 5``: set LEDs and exit (they stay at that intensity)."""

from __future__ import annotations

import click
from pioreactor.plugins_core.leds.intensities import DEFAULT_LOCK_WAIT_SECONDS, LED_CHANNELS, set_intensities
from pioreactor.sdk import FiniteFloatRange


@click.command()
@click.option("--A", "a", type=FiniteFloatRange(0, 100), help="Intensity of LED A, in %.")
@click.option("--B", "b", type=FiniteFloatRange(0, 100), help="Intensity of LED B, in %.")
@click.option("--C", "c", type=FiniteFloatRange(0, 100), help="Intensity of LED C, in %.")
@click.option("--D", "d", type=FiniteFloatRange(0, 100), help="Intensity of LED D, in %.")
@click.option("--source-of-event", default="CLI", show_default=True, help="Recorded with each change event.")
@click.option("--no-log", is_flag=True, help="Do not log or publish change events.")
def led_intensity(a: float | None, b: float | None, c: float | None, d: float | None, source_of_event: str, no_log: bool) -> None:
    """Set the intensity (0-100 %) of LED channels A-D. Channels not given keep their value."""
    from pioreactor.sdk import get_bus, setup_command_logging

    desired = {ch: v for ch, v in zip(LED_CHANNELS, (a, b, c, d), strict=True) if v is not None}
    if not desired:
        raise click.UsageError("give at least one of --A, --B, --C, --D")
    setup_command_logging()
    try:
        if not set_intensities(
            desired, source_of_event=source_of_event, verbose=not no_log, wait_for_locks=DEFAULT_LOCK_WAIT_SECONDS
        ):
            raise click.ClickException(
                f"some LEDs stayed locked by a running job for {DEFAULT_LOCK_WAIT_SECONDS:g} s and were not changed"
            )
    finally:
        get_bus().close()


def all_leds_off() -> None:
    from pioreactor.sdk import get_bus

    set_intensities({ch: 0.0 for ch in LED_CHANNELS}, source_of_event="pio kill --all-jobs")
    get_bus().close()

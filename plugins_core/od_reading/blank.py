"""``pio run od_blank``: the OD of the vial with media only, before inoculating.

The blank is averaged over ``--n-samples`` readings and kept per experiment in persistent
storage (``od_blank``); growth_rate_calculating subtracts it when normalising OD. It is also
published retained on ``pioreactor/<unit>/<experiment>/od_blank/means`` and
``.../od_blank/mean/<channel>``. ``pio run od_blank delete`` forgets it.
"""

from __future__ import annotations

import json
import threading

import click
from pioreactor.plugins_core.od_reading.structs import ODReading, ODReadings
from pioreactor.sdk import (
    FiniteFloatRange,
    get_assigned_experiment,
    get_bus,
    get_unit_name,
    local_persistent_storage,
)
from pioreactor.sdk.structs import encode

STORE = "od_blank"


def _collect(n_samples: int, interval: float, experiment: str) -> tuple[dict[str, list[float]], dict[str, str]]:
    """Run an OD reader in this process until it has taken ``n_samples`` readings."""
    from pioreactor.plugins_core.od_reading.job import ODReader

    samples: dict[str, list[float]] = {}
    done = threading.Event()

    def keep(readings: ODReadings) -> None:
        for channel, reading in readings.ods.items():
            samples.setdefault(channel, []).append(reading.od)
        if min(len(v) for v in samples.values()) >= n_samples:
            done.set()

    # readings of the blank go to a testing experiment, so they stay out of the experiment's data
    reader = ODReader(get_unit_name(), f"_testing_{experiment}", interval=interval)
    reader.reading_callbacks.append(keep)
    patience = reader.clock.to_real((n_samples + 2) * interval) * 2 + 10.0
    try:
        finished = done.wait(patience)
    finally:
        reader.clean_up(reason="blank measured")
    if reader.exit_code:
        raise click.ClickException("od_reading stopped with an error while measuring the blank (see the log)")
    if not finished:
        raise click.ClickException(f"only {min(map(len, samples.values()), default=0)} readings in {patience:.0f} s")
    return samples, reader.angles


@click.group(invoke_without_command=True)
@click.option("--n-samples", default=20, show_default=True, type=click.IntRange(3, 1000), help="Readings to average.")
@click.option("--interval", default=1.5, show_default=True, type=FiniteFloatRange(min=0.1), help="Seconds between readings.")
@click.option("--experiment", help="The experiment the blank belongs to [default: this unit's].")
@click.pass_context
def od_blank(ctx: click.Context, n_samples: int, interval: float, experiment: str | None) -> None:
    """Measure the OD of the media alone (run it before inoculating)."""
    if ctx.invoked_subcommand is not None:
        return
    experiment = experiment or get_assigned_experiment()
    samples, angles = _collect(n_samples, interval, experiment)
    import statistics  # here: every process imports this plugin module, few take a blank

    means = {channel: statistics.fmean(values[:n_samples]) for channel, values in samples.items()}
    with local_persistent_storage(STORE) as store:
        store[experiment] = means
    bus = get_bus()
    prefix = f"pioreactor/{get_unit_name()}/{experiment}/od_blank"
    from pioreactor.sdk import get_clock

    now = get_clock().utc_now()
    for channel, mean in means.items():
        reading = ODReading(timestamp=now, angle=angles[channel], od=mean, channel=channel)
        bus.publish(f"{prefix}/mean/{channel}", encode(reading), qos=1, retain=True)
    bus.publish(f"{prefix}/means", json.dumps(means), qos=1, retain=True)
    bus.close()
    for channel, mean in sorted(means.items()):
        click.echo(f"blank OD, channel {channel}: {mean:.6g}")


@od_blank.command()
@click.option("--experiment", help="Whose blank to delete [default: this unit's experiment].")
def delete(experiment: str | None) -> None:
    """Forget the experiment's blank."""
    experiment = experiment or get_assigned_experiment()
    with local_persistent_storage(STORE) as store:
        means = store.get(experiment) or {}
        if experiment in store:
            del store[experiment]
    bus = get_bus()
    prefix = f"pioreactor/{get_unit_name()}/{experiment}/od_blank"
    bus.publish(f"{prefix}/means", None, qos=1, retain=True)
    for channel in means:
        bus.publish(f"{prefix}/mean/{channel}", None, qos=1, retain=True)
    bus.close()
    click.echo(f"Deleted the blank of {experiment}." if means else f"{experiment} had no blank.")

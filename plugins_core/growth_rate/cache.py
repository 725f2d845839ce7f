"""What the growth-rate job keeps between runs, per experiment, and the command that forgets it."""

from __future__ import annotations

import click

#: persistent-storage namespaces, each keyed by experiment
OD_NORMALIZATION_MEAN = "od_normalization_mean"  # {channel: mean OD}
OD_NORMALIZATION_VARIANCE = "od_normalization_variance"  # {channel: detrended variance}
GROWTH_RATE = "growth_rate"  # float, per hour
OD_FILTERED = "od_filtered"  # float, normalised OD
OD_BLANK = "od_blank"  # {channel: blank OD}, written by the OD blank action; only read here

CACHES = (OD_FILTERED, GROWTH_RATE, OD_NORMALIZATION_MEAN, OD_NORMALIZATION_VARIANCE)


def clear(experiment: str) -> list[str]:
    """Forget ``experiment``'s cached values; returns the namespaces that had one."""
    from pioreactor.sdk import local_persistent_storage

    removed = []
    for name in CACHES:
        with local_persistent_storage(name) as store:
            if experiment in store:
                del store[experiment]
                removed.append(name)
    return removed


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--experiment", default=None, help="Experiment to forget  [default: the assigned experiment]")
def clear_cache(experiment: str | None) -> None:
    """Forget an experiment's cached OD statistics, growth rate and filtered OD.

    The next `pio run growth_rate_calculating` then collects new statistics and starts from
    a growth rate of 0.
    """
    from pioreactor.sdk import get_assigned_experiment

    experiment = experiment or get_assigned_experiment()
    removed = clear(experiment)
    if removed:
        click.echo(f"Cleared the growth-rate cache of experiment {experiment!r}: {', '.join(removed)}.")
    else:
        click.echo(f"Nothing cached for experiment {experiment!r}.")

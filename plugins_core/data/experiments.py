"""``pio experiments``: create, list, assign, unassign and delete experiments (on the leader)."""

from __future__ import annotations

import json
from dataclasses import asdict

import click
from pioreactor.sdk import PioreactorError


def _leader_only() -> None:
    from pioreactor.sdk import am_i_leader

    if not am_i_leader():
        raise click.ClickException("experiments live in the leader's database: run this on the leader")


@click.group()
def experiments() -> None:
    """Experiments in the leader's database, and which units work for which."""


@experiments.command()
@click.argument("name")
@click.option("-d", "--description", default="", help="What the experiment is about.")
@click.option("--media-used", help="The media, e.g. YPD.")
@click.option("--organism-used", help="The organism, e.g. S. cerevisiae.")
@click.option(
    "--assign", "assign_units", multiple=True, metavar="UNIT", help="Assign this unit to it (repeatable)."
)
def create(
    name: str,
    description: str,
    media_used: str | None,
    organism_used: str | None,
    assign_units: tuple[str, ...],
) -> None:
    """Create experiment NAME."""
    from pioreactor.plugins_core.data import experiment_store as api

    _leader_only()
    try:
        experiment = api.create_experiment(
            name, description=description, media_used=media_used, organism_used=organism_used
        )
        if assign_units:
            api.assign_units(experiment.experiment, list(assign_units))
    except PioreactorError as err:
        raise click.ClickException(str(err)) from None
    _announce_latest()
    click.echo(f"Created experiment {experiment.experiment} at {experiment.created_at}.")
    if assign_units:
        click.echo(f"Assigned {', '.join(assign_units)} to it.")


@experiments.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(as_json: bool) -> None:
    """List experiments, newest first, with their units."""
    from pioreactor.plugins_core.data import experiment_store as api

    _leader_only()
    found = api.list_experiments()
    if as_json:
        click.echo(json.dumps([asdict(e) for e in found], indent=2))
        return
    if not found:
        click.echo("No experiments yet: `pio experiments create NAME --description ...`.")
        return
    width = max(len("experiment"), *(len(e.experiment) for e in found))
    click.echo(f"{'experiment':<{width}}  {'created (UTC)':<19}  units  description")
    for e in found:
        units = ",".join(e.units) or "-"
        click.echo(
            f"{e.experiment:<{width}}  {e.created_at[:19].replace('T', ' '):<19}  {units:<5}  {e.description}"
        )


@experiments.command()
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(name: str, yes: bool) -> None:
    """Delete experiment NAME and its assignments (its data stays in the database)."""
    from pioreactor.plugins_core.data import experiment_store as api

    _leader_only()
    if not yes:
        click.confirm(f"Delete experiment {name}? Its readings and logs stay in the database.", abort=True)
    try:
        api.delete_experiment(name)
    except PioreactorError as err:
        raise click.ClickException(str(err)) from None
    _announce_latest()
    click.echo(f"Deleted experiment {name}.")


@experiments.command()
@click.argument("name")
@click.argument("units", nargs=-1)
def assign(name: str, units: tuple[str, ...]) -> None:
    """Assign UNITS (default: this unit) to experiment NAME."""
    from pioreactor.plugins_core.data import experiment_store as api

    _leader_only()
    try:
        assigned = api.assign_units(name, list(units))
    except PioreactorError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"Assigned {', '.join(assigned)} to {name}.")


@experiments.command()
@click.argument("units", nargs=-1)
def unassign(units: tuple[str, ...]) -> None:
    """Take UNITS (default: this unit) off their experiment."""
    from pioreactor.plugins_core.data import experiment_store as api

    _leader_only()
    removed = api.unassign_units(list(units))
    click.echo(f"Unassigned {removed} unit(s).")


@experiments.command()
@click.argument("name")
@click.argument("unit")
@click.argument("label", required=False)
def label(name: str, unit: str, label: str | None) -> None:
    """Give UNIT the label LABEL in experiment NAME (stored, and published on .../unit_label);
    without LABEL, print the unit's label."""
    from pioreactor.plugins_core.data import api
    from pioreactor.sdk import check_unit_name, get_bus

    _leader_only()
    try:
        check_unit_name(unit)
        if label is None:
            click.echo(api.unit_labels(name).get(unit, ""))
            return
        api.set_unit_label(name, unit, label)
    except PioreactorError as err:
        raise click.ClickException(str(err)) from None
    bus = get_bus()
    bus.publish(f"pioreactor/{unit}/{name}/unit_label", label.strip(), qos=1, retain=True)
    bus.close(timeout=5.0)
    click.echo(f"Labelled {unit} {label.strip()!r} in {name}.")


def _announce_latest() -> None:
    """``pioreactor/latest_experiment/*`` for dashboards; the database already holds the truth."""
    from pioreactor.plugins_core.data import api
    from pioreactor.sdk import get_bus

    try:
        if not api.publish_latest_experiment():
            click.echo("Warning: cannot reach the MQTT broker, so pioreactor/latest_experiment is not updated.", err=True)
    finally:
        get_bus().close(timeout=5.0)  # waits until the broker has the retained values

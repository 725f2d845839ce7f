"""``pio workers``: the leader's inventory of workers."""

from __future__ import annotations

import json

import click
from pioreactor.plugins_core.cluster.fanout import fan_out, settings
from pioreactor.plugins_core.cluster.inventory import InventoryError
from pioreactor.plugins_core.cluster.probe import probe
from pioreactor.plugins_core.data.api import assigned_experiment


@click.group()
def workers() -> None:
    """Add, remove, list and check the workers of this leader's cluster."""


@workers.command("add")
@click.argument("name")
@click.option("--address", default=None, help="HOST[:PORT] where its web server answers (default: NAME.local).")
@click.option("--force", is_flag=True, help="Add it even if it does not answer now.")
def add(name: str, address: str | None, force: bool) -> None:
    """Add worker NAME after checking that it answers /unit_api/health."""
    from pioreactor.plugins_core.cluster import inventory

    address = address or f"{name}.local"
    timeout, _, port = settings()
    problems = probe(name, address, default_port=port, timeout=timeout)
    for problem in problems:
        click.echo(f"{name}: {problem}", err=True)
    if problems and not force:
        raise click.ClickException(f"{name} was not added (fix the above, or add it anyway with --force)")
    inventory.add_worker(name, address)
    _tell_worker(name, assigned_experiment(name))
    click.echo(f"{name} added at {address}")


@workers.command("remove")
@click.argument("name")
def remove(name: str) -> None:
    """Remove worker NAME from the inventory (and from its experiment)."""
    from pioreactor.plugins_core.cluster import inventory

    try:
        inventory.remove_worker(name)
    except InventoryError as err:
        raise click.ClickException(str(err)) from None
    _tell_worker(name, None, removed=True)
    click.echo(f"{name} removed")


def _tell_worker(name: str, experiment: str | None, *, removed: bool = False) -> None:
    """Publish the worker's assignment (retained) for its cluster_follower; a broker that is down
    only costs a warning: the worker keeps its last known assignment."""
    from pioreactor.plugins_core.cluster.assignment import clear_assignment, publish_assignment

    try:
        clear_assignment(name) if removed else publish_assignment(name, experiment)
    except Exception as err:  # the inventory changed anyway; say what the worker may not know
        click.echo(f"warning: could not tell {name} over MQTT: {err}", err=True)


@workers.command("update-active")
@click.argument("name")
@click.argument("active", type=click.Choice(["0", "1"]))
def update_active(name: str, active: str) -> None:
    """Mark worker NAME active (1) or inactive (0); pios leaves inactive workers alone."""
    from pioreactor.plugins_core.cluster import inventory

    try:
        inventory.set_active(name, active == "1")
    except InventoryError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"{name} is now {'active' if active == '1' else 'inactive'}")


@workers.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON list.")
def list_(as_json: bool) -> None:
    """The workers, their address and whether they are active."""
    from pioreactor.plugins_core.cluster import inventory

    rows = inventory.list_workers()
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("no workers; add one with `pio workers add NAME --address HOST[:PORT]`")
    for row in rows:
        click.echo(f"{row['pioreactor_unit']:<20} {row['address']:<28} {'active' if row['is_active'] else 'inactive'}")


@workers.command("discover")
@click.option("-t", "--terse", is_flag=True, help="Only the names.")
@click.option("--seconds", type=click.FloatRange(min=0.5, max=60), default=3.0, show_default=True, help="How long to listen.")
def discover(terse: bool, seconds: float) -> None:
    """List the units that advertise themselves on the local network (mDNS), and whether they are
    in the inventory; add one with `pio workers add NAME --address ADDRESS`."""
    from pioreactor.plugins_core.cluster import inventory
    from pioreactor.plugins_core.cluster.mdns import discover as browse

    try:
        found = browse(seconds)
    except OSError as err:
        raise click.ClickException(f"cannot listen for mDNS on this network: {err}") from None
    known = {w["pioreactor_unit"] for w in inventory.list_workers()}
    for row in found:
        if terse:
            click.echo(row["pioreactor_unit"])
        else:
            where = "in the inventory" if row["pioreactor_unit"] in known else "not added"
            click.echo(f"{row['pioreactor_unit']:<20} {row['address']:<28} {row['version']:<10} {where}")
    if not found and not terse:
        click.echo(f"no unit answered within {seconds:g} s (is `pio run web_server` running on them, on this network?)")


@workers.command("status")
def status() -> None:
    """Ask every worker, in parallel, whether it answers, its version and how far its clock is
    from this leader's; exit 1 if one does not answer."""
    from pioreactor.plugins_core.cluster import inventory
    from pioreactor.plugins_core.cluster.clock_skew import max_skew_seconds, measure

    rows = {w["pioreactor_unit"]: w["address"] for w in inventory.list_workers()}
    results = fan_out(rows, lambda unit: ("GET", "/unit_api/versions/app", None))
    skews = measure({u: a for u, a in rows.items() if results[u]["ok"]})
    limit = max_skew_seconds()
    failed = False
    for unit in sorted(results):
        result = results[unit]
        if not result["ok"]:
            failed = True
            click.echo(f"{unit}: {result['error']['message']}")
            continue
        skew = skews.get(unit)
        clock = "clock not read" if skew is None else f"clock {skew:+.2f} s from the leader's"
        click.echo(f"{unit}: ok, version {result['value'].get('version')}, {clock}")
        if skew is not None and abs(skew) > limit:
            click.echo(
                f"warning: {unit}'s clock is {abs(skew):.1f} s {'ahead of' if skew > 0 else 'behind'} the leader's "
                f"(more than [pios] max_clock_skew_seconds = {limit:g}); check its time sync (chrony or NTP)",
                err=True,
            )
    if failed:
        raise SystemExit(1)

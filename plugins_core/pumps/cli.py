"""``pio run pumps --media 1 --waste 2 --media 1``: doses in the order given.

click groups the values of a repeated option together (``media: (1, 1)``, ``waste: (2,)``),
which loses their order, so the command also reads the order from the arguments themselves
and checks that both readings agree.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import click
from pioreactor.sdk import FiniteFloatRange

ORDER_KEY = "pumps.ordered_doses"
EXTRA_KEY = "pumps.extra_pumps"
BUILTIN = ("media", "alt_media", "waste")


def _pump_option(pump: str) -> click.Option:
    flag = "--" + pump.replace("_", "-")
    decls = [flag, pump] if "_" not in pump else [flag, "--" + pump, pump]
    return click.Option(
        decls,
        type=FiniteFloatRange(min=0),
        multiple=True,
        metavar="ML",
        help=f"Dose this many ml with the {pump.replace('_', ' ')} pump (repeatable; doses run in order).",
    )


def ordered_doses(args: list[str], params: list[click.Parameter]) -> list[tuple[str, str]]:
    """(pump, value) for each pump option in ``args``, in the order they appear."""
    pumps: dict[str, str] = {}
    takes_value: set[str] = set()
    for param in params:
        if not isinstance(param, click.Option):
            continue
        for opt in param.opts + param.secondary_opts:
            if param.multiple and param.name and param.name not in ("source_of_event",):
                pumps[opt] = param.name
            elif not param.is_flag:
                takes_value.add(opt)
    found: list[tuple[str, str]] = []
    index = 0
    while index < len(args):
        token = args[index]
        if token == "--":
            break
        name, equals, value = token.partition("=")
        if name in pumps:
            if equals:
                found.append((pumps[name], value))
                index += 1
            elif index + 1 < len(args):
                found.append((pumps[name], args[index + 1]))
                index += 2
            else:
                index += 1  # click reports the missing value
            continue
        index += 2 if (name in takes_value and not equals) else 1
    return found


class OrderedPumps(click.Command):
    """Options ``--media``, ``--alt-media``, ``--waste`` and one per extra pump of ``[pumps]``."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        known = {p.name for p in params}
        extra = ctx.meta.get(EXTRA_KEY)
        if extra is None:
            try:
                from pioreactor.plugins_core.pumps.dose import pump_roles_with_plugin_defaults

                extra = [
                    pump
                    for pump in pump_roles_with_plugin_defaults()
                    if pump not in BUILTIN and pump not in known
                ]
            except Exception:  # a broken [pumps] section is reported when the doses are checked
                extra = []
            ctx.meta[EXTRA_KEY] = extra
        help_option = [p for p in params if p.name == "help"]
        others = [p for p in params if p.name != "help"]
        return others + [_pump_option(pump) for pump in extra] + help_option

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[ORDER_KEY] = ordered_doses(list(args), self.get_params(ctx))
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        ordered = ctx.meta.get(ORDER_KEY, [])
        parsed = {name: values for name, values in ctx.params.items() if name != "source_of_event"}
        doses = [(pump, float(value)) for pump, value in ordered]
        by_pump = Counter((pump, ml) for pump, values in parsed.items() for ml in values)
        if Counter(doses) != by_pump:
            raise click.UsageError("could not tell the order of the doses; write each as --pump ML", ctx)
        ctx.meta["pumps.doses"] = doses
        return super().invoke(ctx)


@click.command(cls=OrderedPumps, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--media",
    "media",
    type=FiniteFloatRange(min=0),
    multiple=True,
    metavar="ML",
    help="Dose this many ml of media (repeatable).",
)
@click.option(
    "--alt-media",
    "--alt_media",
    "alt_media",
    type=FiniteFloatRange(min=0),
    multiple=True,
    metavar="ML",
    help="Dose this many ml of alternative media (repeatable).",
)
@click.option(
    "--waste",
    "waste",
    type=FiniteFloatRange(min=0),
    multiple=True,
    metavar="ML",
    help="Remove this many ml with the waste pump (repeatable).",
)
@click.option("--source-of-event", default="CLI", show_default=True, help="Recorded with each dosing event.")
def pumps(source_of_event: str, **_: Any) -> None:
    """Run several doses one after the other, in the order given.

    `pio run pumps --media 1 --waste 2 --media 1` adds 1 ml of media, removes 2 ml, then adds
    1 ml again. Every pump must be calibrated: nothing runs if one is not.
    """
    from pioreactor.plugins_core.pumps.actions import Pumps
    from pioreactor.sdk.plugins import run_job_from_command

    doses = click.get_current_context().meta["pumps.doses"]
    run_job_from_command("pumps", Pumps, {"doses": doses, "source_of_event": source_of_event})

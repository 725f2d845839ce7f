"""``pio calibrations``: run a calibration assistant, list, display, analyse, choose and delete calibrations.

Calibrations are YAML files in ``$PIO_HOME/storage/calibrations/<device>/<name>.yaml``; each
device has at most one active calibration, which the jobs use (stirring, od_reading, pumps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

import click
from pioreactor.plugins_core.calibrations.api import (
    Calibration,
    CalibrationError,
    active_calibration_name,
    calibration_path,
    clear_active_calibration,
    delete_calibration,
    list_calibrations,
    list_devices,
    load_active_calibration,
    load_calibration,
    r_squared,
    refit,
    save_calibration,
    set_active_calibration,
    to_yaml,
)
from pioreactor.plugins_core.calibrations.plot import number, polynomial_text, text_plot
from pioreactor.sdk import PioreactorError
from pioreactor.sdk.calibration_protocols import (
    Assistant,
    CalibrationProtocol,
    calibration_protocol_registry,
    prepare_config,
    protocol_devices,
    release_hardware,
)

T = TypeVar("T")
UNITS = {"Duration": "s", "Volume": "ml"}


# -- talking to the person ---------------------------------------------------------------------
class NumberList(click.ParamType):
    name = "numbers"

    def __init__(self, minimum: float | None = None) -> None:
        self.minimum = minimum

    def convert(self, value: Any, param: Any, ctx: Any) -> list[float]:
        if isinstance(value, list):
            return value
        try:
            numbers = [float(part) for part in str(value).replace(";", ",").split(",") if part.strip()]
        except ValueError:
            self.fail(f"{value!r} is not a list of numbers separated by commas", param, ctx)
        if not numbers:
            self.fail("enter at least one number", param, ctx)
        if self.minimum is not None and any(n < self.minimum for n in numbers):
            self.fail(f"every number must be at least {self.minimum:g}", param, ctx)
        return numbers


def numbers_text(values: list[float]) -> str:
    return ", ".join(f"{v:g}" for v in values)


class ClickAssistant(Assistant):
    """The terminal: click prompts and progress bars. With ``yes``, every question takes its
    default (printed, so the transcript reads like an answered session)."""

    def __init__(self, yes: bool = False) -> None:
        self.yes = yes

    def say(self, text: str = "") -> None:
        click.echo(text)

    def _answer_by_default(self, question: str, default: Any) -> Any:
        if default is None:
            raise CalibrationError(f"{question!r} has no default answer: run without -y and answer it")
        click.echo(f"{question}: {default}")
        return default

    def ask(
        self,
        question: str,
        *,
        default: T | None = None,
        kind: Callable[[str], T] = float,  # type: ignore[assignment]
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> T:
        if self.yes:
            return self._answer_by_default(question, default)
        value_type: Any = kind
        if kind is float:
            value_type = click.FloatRange(minimum, maximum)
        elif kind is int:
            value_type = click.IntRange(
                None if minimum is None else int(minimum), None if maximum is None else int(maximum)
            )
        return click.prompt(question, default=default, type=value_type)

    def ask_numbers(self, question: str, *, default: list[float] | None = None, minimum: float | None = None) -> list[float]:
        if self.yes:
            self._answer_by_default(question, None if default is None else numbers_text(default))
            return list(default or [])
        answer: list[float] = click.prompt(
            question, default=None if default is None else numbers_text(default), type=NumberList(minimum)
        )
        return answer

    def confirm(self, question: str, *, default: bool = True) -> bool:
        if self.yes:
            click.echo(f"{question} [Y/n]: y")
            return True
        return click.confirm(question, default=default)

    def pause(self, instruction: str) -> None:
        click.echo(instruction)
        if not self.yes:
            click.prompt("Press Enter when ready", default="", show_default=False, prompt_suffix=" ")

    @contextmanager
    def _bar(self, items: Iterable[T], label: str, length: int | None) -> Iterator[Iterable[T]]:
        with click.progressbar(items, label=label, length=length, show_pos=True, show_eta=False) as bar:
            yield bar

    def progress(self, items: Iterable[T], *, label: str, length: int | None = None) -> AbstractContextManager[Iterable[T]]:
        return self._bar(items, label, length)


# -- showing calibrations ----------------------------------------------------------------------
def axis_label(name: str) -> str:
    unit = UNITS.get(name)
    return f"{name} ({unit})" if unit else name


def plot(calibration: Calibration, device: str) -> str:
    data = calibration.recorded_data
    return text_plot(
        data.x,
        data.y,
        calibration.x_to_y,
        x_label=axis_label(calibration.x),
        y_label=axis_label(calibration.y),
        title=f"{device}: {calibration.calibration_name}",
    )


def summary(calibration: Calibration) -> str:
    fit = r_squared(calibration)
    return (
        f"{polynomial_text(calibration.curve_data_.coefficients, calibration.x, calibration.y)}"
        f"   (degree {calibration.degree}, R^2 {fit:.5f}, {len(calibration.recorded_data.x)} points)"
    )


def residual_table(calibration: Calibration) -> str:
    rows = [f"{calibration.x:>12} {calibration.y:>12} {'fitted':>12} {'residual':>12}"]
    for x, y in zip(calibration.recorded_data.x, calibration.recorded_data.y, strict=True):
        fitted = calibration.x_to_y(x)
        rows.append(f"{number(x):>12} {number(y):>12} {number(fitted):>12} {y - fitted:>+12.4g}")
    return "\n".join(rows)


def default_name(device: str, when: Any) -> str:
    base = f"{device}-{when.strftime('%Y-%m-%d_%H-%M')}"
    existing = set(list_calibrations(device))
    name, n = base, 1
    while name in existing:
        n += 1
        name = f"{base}-{n}"
    return name


def finish(calibration: Calibration, device: str, assistant: Assistant) -> bool:
    """Show the measured calibration, save it and (ask to) make it active; True if saved."""
    assistant.say()
    assistant.say(summary(calibration))
    assistant.say(plot(calibration, device))
    name = calibration.calibration_name
    if not assistant.confirm(f"Save calibration {name!r} for {device}?", default=True):
        assistant.say("Not saved.")
        return False
    path = save_calibration(device, calibration)
    assistant.say(f"Saved to {path}")
    if assistant.confirm(f"Make {name!r} the active calibration for {device}?", default=True):
        set_active_calibration(device, name)
        assistant.say(f"{name!r} is now the active calibration for {device}.")
    else:
        active = active_calibration_name(device)
        assistant.say(f"The active calibration for {device} stays {active!r}." if active else f"{device} has no active calibration.")
    return True


def calibration_or_active(device: str, name: str | None) -> Calibration:
    if name is not None:
        return load_calibration(device, name)
    calibration = load_active_calibration(device)
    if calibration is None:
        names = list_calibrations(device)
        hint = f" Pick one with --name: {', '.join(names)}." if names else f" Make one: pio calibrations run --device {device}"
        raise CalibrationError(f"{device} has no active calibration.{hint}")
    return calibration


# -- the command -------------------------------------------------------------------------------
class CalibrationsGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PioreactorError as err:
            raise click.ClickException(str(err)) from None


device_option = click.option("--device", required=True, help="media_pump, alt_media_pump, waste_pump, stirring, od90, ...")


@click.group(cls=CalibrationsGroup, context_settings={"help_option_names": ["-h", "--help"]})
def calibrations() -> None:
    """Calibrate pumps, stirring and OD, and choose the calibration each device uses.

    A calibration is a YAML file in $PIO_HOME/storage/calibrations/<device>/<name>.yaml. Each
    device has at most one active calibration: pumps turn ml into seconds with it, stirring
    starts at its duty cycle for the target RPM, od_reading reports OD600 through it.
    """


@calibrations.command("list")
@click.option("--device", help="Only this device's calibrations.")
def list_command(device: str | None) -> None:
    """List calibrations, the active one marked *."""
    devices = [device] if device else list_devices()
    rows = []
    for d in devices:
        active = active_calibration_name(d)
        for name in list_calibrations(d):
            try:
                created = load_calibration(d, name).created_at.strftime("%Y-%m-%d %H:%M:%S")
            except CalibrationError as err:
                created = f"(unreadable: {str(err).splitlines()[0][:60]})"
            rows.append((d, name, created, "*" if name == active else ""))
    if not rows:
        where = f" for {device}" if device else ""
        click.echo(f"No calibrations{where} yet. Make one: pio calibrations run --device {device or 'DEVICE'}")
        return
    header = ("device", "name", "created_at (UTC)", "active")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        click.echo("  ".join(value.ljust(widths[i]) if i < 3 else value for i, value in enumerate(row)).rstrip())


@calibrations.command("protocols")
@click.option("--device", help="Only this device's protocols.")
def protocols_command(device: str | None) -> None:
    """List the calibration protocols, per device.

    Protocols come from plugins (the pioreactor_register_calibration_protocols hook).
    """
    registry = calibration_protocol_registry()
    rows = [
        (d, name, spec.summary)
        for (d, name), spec in sorted(registry.entries.items())
        if device is None or d == device
    ]
    if not rows:
        raise CalibrationError(
            f"no calibration protocol for {device!r}. Devices with protocols: {', '.join(protocol_devices()) or 'none'}"
        )
    header = ("device", "protocol", "description")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(2)]
    for d, name, text in [header, *rows]:
        click.echo(f"{d.ljust(widths[0])}  {name.ljust(widths[1])}  {text}".rstrip())


@calibrations.command("run")
@device_option
@click.option("--protocol-name", help="Which protocol, when a device has several (pio calibrations protocols).")
@click.option("--name", "calibration_name", help="Name of the new calibration [default: DEVICE-DATE_TIME].")
@click.option("-y", "--yes", is_flag=True, help="Answer every question with its default and every confirmation with yes.")
def run_command(device: str, protocol_name: str | None, calibration_name: str | None, yes: bool) -> None:
    """Calibrate a device with an interactive assistant.

    The assistant says what to do, measures, fits a curve and plots it, then saves the
    calibration and makes it the device's active one (it asks first, unless -y).
    """
    prepare_config()
    registry = calibration_protocol_registry()
    available = registry.of_kind(device)
    if not available:
        raise CalibrationError(
            f"no calibration protocol for {device!r}. Devices with protocols: {', '.join(protocol_devices()) or 'none'}"
        )
    if protocol_name is None:
        names = list(available)
        if len(names) == 1 or yes:
            protocol_name = names[0]
        else:
            protocol_name = click.prompt("Protocol", type=click.Choice(names), default=names[0])
    spec = registry.get(device, protocol_name)
    protocol_class = spec.load()
    protocol: CalibrationProtocol = protocol_class()
    assistant = ClickAssistant(yes)

    from pioreactor.sdk import get_clock

    title = protocol.title or f"{protocol_name} calibration"
    click.echo(click.style(f"{title} ({device}, protocol {protocol_name})", bold=True))
    if protocol.description:
        click.echo(protocol.description)
    if protocol.requirements:
        click.echo("You need: " + "; ".join(protocol.requirements) + ".")
    click.echo()
    name = calibration_name or assistant.ask("Name of this calibration", default=default_name(device, get_clock().utc_now()), kind=str)
    path = calibration_path(device, name)  # checks the name
    if path.exists() and not assistant.confirm(f"{device} already has a calibration named {name!r}: replace it?", default=False):
        raise click.Abort()
    try:
        calibration = protocol.run(device, assistant, name=name)
    finally:
        release_hardware()
    finish(calibration, device, assistant)


@calibrations.command("display")
@device_option
@click.option("--name", help="Which calibration [default: the active one].")
def display_command(device: str, name: str | None) -> None:
    """Print a calibration's YAML and plot its curve."""
    calibration = calibration_or_active(device, name)
    active = active_calibration_name(device) == calibration.calibration_name
    click.echo(f"# {calibration_path(device, calibration.calibration_name)}" + ("  (active)" if active else ""))
    click.echo(to_yaml(calibration).decode().rstrip())
    click.echo()
    click.echo(summary(calibration))
    click.echo(plot(calibration, device))


@calibrations.command("analyze")
@device_option
@click.option("--name", help="Which calibration [default: the active one].")
@click.option("--degree", type=click.IntRange(0, 5), help="Degree of the polynomial to fit [asked if not given].")
@click.option("-y", "--yes", is_flag=True, help="Save the refitted curve without asking.")
def analyze_command(device: str, name: str | None, degree: int | None, yes: bool) -> None:
    """Refit a calibration's data with another degree.

    Shows the new curve, its residuals and plot, and saves it if you like.
    """
    calibration = calibration_or_active(device, name)
    click.echo(f"Now: {summary(calibration)}")
    if degree is None:
        degree = calibration.degree if yes else click.prompt("Degree of the polynomial", default=calibration.degree, type=click.IntRange(0, 5))
    refitted = refit(calibration, degree)
    click.echo(f"Refitted: {summary(refitted)}")
    click.echo(residual_table(refitted))
    click.echo(plot(refitted, device))
    if refitted.curve_data_ == calibration.curve_data_:
        click.echo("The curve is unchanged.")
        return
    if yes or click.confirm(f"Save the refitted curve to {calibration.calibration_name!r}?", default=True):
        path = save_calibration(device, refitted)
        click.echo(f"Saved to {path}")
    else:
        click.echo("Not saved.")


@calibrations.command("set-active")
@device_option
@click.option("--name", help="The calibration to use from now on.")
@click.option("--none", "no_calibration", is_flag=True, help="Use no calibration for the device.")
def set_active_command(device: str, name: str | None, no_calibration: bool) -> None:
    """Choose the calibration a device uses.

    Jobs started afterwards use it; --none leaves the device uncalibrated.
    """
    if no_calibration == (name is not None):
        raise click.UsageError("give either --name NAME or --none")
    if no_calibration:
        had = clear_active_calibration(device)
        click.echo(f"{device} uses no calibration now." if had else f"{device} had no active calibration.")
        return
    assert name is not None
    set_active_calibration(device, name)
    click.echo(f"{name!r} is now the active calibration for {device}.")


@calibrations.command("delete")
@device_option
@click.option("--name", required=True, help="The calibration to delete.")
def delete_command(device: str, name: str) -> None:
    """Delete a calibration.

    If it was the active one, the device has no active calibration afterwards.
    """
    was_active = active_calibration_name(device) == name
    delete_calibration(device, name)
    click.echo(f"Deleted calibration {name!r} of {device}." + (f" It was active: {device} has no active calibration now." if was_active else ""))

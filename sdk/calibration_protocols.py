"""Calibration protocols: the assistants behind ``pio calibrations run --device D``.

A protocol is a class registered with ``pioreactor_register_calibration_protocols``::

    from pioreactor.sdk import hookimpl

    @hookimpl
    def pioreactor_register_calibration_protocols(registry):
        registry.add("media_pump", "gravimetric", "my_plugin.scale:Gravimetric", summary="Weigh the pumped media")

It subclasses `CalibrationProtocol` and implements ``run(device, assistant, name=...)``: tell
the person what to do and ask them things through the `Assistant` (which is the terminal for
``pio calibrations run``; ``-y`` answers every question with its default), measure, fit (see
`pioreactor.sdk.calibrations.fit_polynomial`) and return the calibration. ``pio`` then shows
the curve, saves it and offers to make it the device's active calibration.

Protocols that drive hardware themselves release it with `release_hardware()` (``pio`` does so
too when the protocol ends); `on_simulator()` tells a protocol that the unit is the simulator,
where it can stand in for the person (weigh the pumped liquid, swap vials).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, ClassVar, TypeVar

from pioreactor.sdk.plugins import load_config_with_plugins

if TYPE_CHECKING:
    from pioreactor.kernel.registries.targets import CalibrationProtocolRegistry
    from pioreactor.plugins_core.calibrations.api import Calibration

T = TypeVar("T")


class Assistant(abc.ABC):
    """How a protocol talks to the person calibrating.

    ``yes`` is True when every question is to be answered with its default (``-y``): a
    question without a default then raises `CalibrationError`.
    """

    yes: bool = False

    @abc.abstractmethod
    def say(self, text: str = "") -> None:
        """Show ``text`` (instructions, a measured value)."""

    @abc.abstractmethod
    def ask(
        self,
        question: str,
        *,
        default: T | None = None,
        kind: Callable[[str], T] = float,  # type: ignore[assignment]
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> T:
        """Ask for one value of type ``kind`` (``float``, ``int``, ``str``), within the bounds."""

    @abc.abstractmethod
    def ask_numbers(self, question: str, *, default: list[float] | None = None, minimum: float | None = None) -> list[float]:
        """Ask for several numbers, separated by commas."""

    @abc.abstractmethod
    def confirm(self, question: str, *, default: bool = True) -> bool:
        """A yes/no question."""

    @abc.abstractmethod
    def pause(self, instruction: str) -> None:
        """Tell the person to do something, and wait until they have done it."""

    @abc.abstractmethod
    def progress(self, items: Iterable[T], *, label: str, length: int | None = None) -> AbstractContextManager[Iterable[T]]:
        """A progress bar over ``items`` while the protocol measures: ``with assistant.progress(...) as steps:``."""


class CalibrationProtocol(abc.ABC):
    """Base of a calibration protocol; ``pio calibrations run`` instantiates it without arguments.

    Class attributes: ``protocol_name`` (as registered), ``title`` and ``description`` (shown
    before it starts) and ``requirements`` (what the person needs at hand).
    """

    protocol_name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    requirements: ClassVar[tuple[str, ...]] = ()

    @abc.abstractmethod
    def run(self, device: str, assistant: Assistant, *, name: str) -> Calibration:
        """Measure ``device`` and return its calibration, named ``name`` (not saved yet)."""


def calibration_protocol_registry() -> CalibrationProtocolRegistry:
    """Every registered protocol: ``.of_kind(device)`` maps protocol names to specs for a
    device, ``.get(device, name)`` finds one (``spec.load()`` imports its class)."""
    from pioreactor.kernel.plugins import get_plugin_host
    from pioreactor.kernel.registries.targets import CalibrationProtocolRegistry

    return get_plugin_host().registry(CalibrationProtocolRegistry)


def protocol_devices() -> list[str]:
    """The devices some protocol can calibrate."""
    return sorted({device for device, _ in calibration_protocol_registry().entries})


prepare_config = load_config_with_plugins  # a command's first step: every plugin's config defaults


def release_hardware() -> None:
    """Switch off and release everything this process holds of the hardware backend."""
    from pioreactor.kernel.hardware import close_hardware

    close_hardware()


def on_simulator() -> bool:
    """True if this process's hardware backend is the simulator."""
    from pioreactor.kernel.hardware import get_hardware

    return getattr(get_hardware(), "name", "") == "simulator"


def is_job_running(job_name: str) -> bool:
    """True if ``job_name`` runs on this unit (any experiment)."""
    from pioreactor.kernel.job_registry import RunningJobs

    with RunningJobs() as registry:
        return bool(registry.running(job_name=job_name))


def refuse_if_running(job_name: str, why: str) -> None:
    if is_job_running(job_name):
        from pioreactor.plugins_core.calibrations.api import CalibrationError

        raise CalibrationError(f"{job_name} is running: {why}. Stop it first: pio kill --job-name {job_name}")


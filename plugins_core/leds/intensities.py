"""The LEDs (channels A-D): set them, remember their state, lock them, switch them temporarily.

The state lives in intermittent storage (``leds``), so every process of the unit (and
``pio kill --all-jobs``) knows it; each change is published retained on
``pioreactor/<unit>/<experiment>/leds/intensity`` and as an event on ``.../led_change_events``.
A channel locked by a running process (e.g. od_reading's IR LED) is left alone by others.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from pioreactor.plugins_core.leds.structs import LEDChangeEvent, LEDsIntensity
from pioreactor.sdk import (
    get_assigned_experiment,
    get_bus,
    get_clock,
    get_hardware,
    get_logger,
    get_unit_name,
    is_process_alive,
    local_intermittent_storage,
)
from pioreactor.sdk.hardware import on_behalf_of, output_holders
from pioreactor.sdk.structs import encode

LED_CHANNELS = ("A", "B", "C", "D")


def current_intensities() -> dict[str, float]:
    """The intensity (percent) of each channel now, as every process of the unit sees it."""
    with local_intermittent_storage("leds") as store:
        return {channel: float(store.get(channel, 0.0)) for channel in LED_CHANNELS}


def locked_channels() -> set[str]:
    """Channels locked by a process that is still alive."""
    with local_intermittent_storage("led_locks") as store:
        return {channel for channel, pid in store.items() if pid != os.getpid() and is_process_alive(int(pid), None)}


def _validate(desired: Mapping[str, float]) -> dict[str, float]:
    checked = {}
    for channel, value in desired.items():
        if channel not in LED_CHANNELS:
            raise ValueError(f"LED channel {channel!r} does not exist: use one of {', '.join(LED_CHANNELS)}")
        value = float(value)
        if not 0.0 <= value <= 100.0:
            raise ValueError(f"LED {channel} intensity must be between 0 and 100 %, got {value:g}")
        checked[channel] = value
    return checked


def set_intensities(
    desired: Mapping[str, float],
    *,
    source_of_event: str,
    experiment: str | None = None,
    verbose: bool = True,
) -> bool:
    """Set LED intensities (percent). Returns False if a channel was locked by another process
    and so left unchanged; raises ValueError for a bad channel or intensity.

    ``verbose`` publishes a change event and logs a line per changed channel (off for the
    brief switches around an OD reading)."""
    wanted = _validate(desired)
    locked = locked_channels() & set(wanted)
    logger = get_logger("led_intensity")
    for channel in sorted(locked):
        logger.debug("LED %s is locked by another job; leaving it unchanged.", channel)
        del wanted[channel]
    driver = get_hardware().led_driver()
    unit, experiment = get_unit_name(), experiment or get_assigned_experiment()
    with local_intermittent_storage("leds") as store:
        before = {channel: float(store.get(channel, 0.0)) for channel in LED_CHANNELS}
        for channel, value in wanted.items():
            if before[channel] == value:
                continue  # the driver already has it: spare the I2C write
            driver.set_intensity(channel, value)
            store[channel] = value
        after = {channel: float(store.get(channel, 0.0)) for channel in LED_CHANNELS}
    bus = get_bus()
    prefix = f"pioreactor/{unit}/{experiment}"
    bus.publish(f"{prefix}/leds/intensity", encode(LEDsIntensity(**after)), qos=1, retain=True)
    now = get_clock().utc_now()
    for channel, value in wanted.items():
        if before[channel] == value or not verbose:
            continue
        event = LEDChangeEvent(channel=channel, intensity=value, source_of_event=source_of_event, timestamp=now)
        bus.publish(f"{prefix}/led_change_events", encode(event), qos=1)
        logger.info("Updated LED %s from %.3g%% to %.3g%%.", channel, before[channel], value)
    return not locked


@contextmanager
def locked(channels: list[str]) -> Iterator[None]:
    """Keep other processes from changing ``channels`` while inside."""
    with local_intermittent_storage("led_locks") as store:
        for channel in channels:
            store[channel] = os.getpid()
    try:
        yield
    finally:
        with local_intermittent_storage("led_locks") as store:
            for channel in channels:
                if store.get(channel) == os.getpid():
                    del store[channel]


@contextmanager
def temporarily(desired: Mapping[str, float], *, source_of_event: str) -> Iterator[dict[str, float]]:
    """Set LEDs for the duration of the block, then put back what was there before."""
    previous = current_intensities()
    owners = output_holders([f"led:{ch}" for ch in desired])
    set_intensities(desired, source_of_event=source_of_event, verbose=False)
    try:
        yield previous
    finally:
        # what is put back stays whoever's it was (a job killed later must not take it down)
        with on_behalf_of(owners):
            set_intensities({ch: previous[ch] for ch in desired}, source_of_event=source_of_event, verbose=False)

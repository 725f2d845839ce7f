"""The LEDs (channels A-D): set them, remember their state, lock them, switch them temporarily.

The state lives in intermittent storage (``leds``), so every process of the unit (and
``pio kill --all-jobs``) knows it; each change is published retained on
``pioreactor/<unit>/<experiment>/leds/intensity`` and as an event on ``.../led_change_events``.
A channel locked by a running process (e.g. od_reading's IR LED) is left alone by others.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

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


#: how long a change waits for a channel another job holds (od_reading holds them for a fraction
#: of a second per reading); upstream retries 12 times, 0.5 s apart
DEFAULT_LOCK_WAIT_SECONDS = 6.0
LOCK_POLL_SECONDS = 0.05


def _held_by_others(locks: Any) -> set[str]:
    me = os.getpid()
    return {channel for channel, pid in locks.items() if int(pid) != me and is_process_alive(int(pid), None)}


def set_intensities(
    desired: Mapping[str, float],
    *,
    source_of_event: str,
    experiment: str | None = None,
    verbose: bool = True,
    wait_for_locks: float = 0.0,
    only_if: Mapping[str, float] | None = None,
) -> bool:
    """Set LED intensities (percent). Returns False if a channel was locked by another process
    (for longer than ``wait_for_locks`` seconds) and so left unchanged; raises ValueError for a
    bad channel or intensity.

    The lock check and the change are one transaction, so a change never slips in between
    another job locking the LEDs and reading their state. ``only_if`` changes a channel only
    if it still has that value (a job putting back what it switched never undoes a newer
    change). ``verbose`` publishes a change event and logs a line per changed channel (off for
    the brief switches around an OD reading)."""
    wanted = _validate(desired)
    logger = get_logger("led_intensity")
    driver = get_hardware().led_driver()
    unit, experiment = get_unit_name(), experiment or get_assigned_experiment()
    deadline = time.monotonic() + max(0.0, wait_for_locks)
    while True:
        with (
            local_intermittent_storage("leds") as store,
            store.transaction(),
            local_intermittent_storage("led_locks") as locks,
        ):
            locked = _held_by_others(locks) & set(wanted)
            if not (locked and time.monotonic() < deadline):
                before = {channel: float(store.get(channel, 0.0)) for channel in LED_CHANNELS}
                for channel in sorted(locked):
                    logger.debug("LED %s is locked by another job; leaving it unchanged.", channel)
                    del wanted[channel]
                for channel, expected in (only_if or {}).items():
                    if channel in wanted and before[channel] != expected:
                        del wanted[channel]  # changed meanwhile by someone else: theirs is newer
                changed = [channel for channel, value in wanted.items() if before[channel] != value]
                for channel in changed:
                    store[channel] = wanted[channel]
                after = {channel: float(store.get(channel, 0.0)) for channel in LED_CHANNELS}
                break
        time.sleep(LOCK_POLL_SECONDS)
    # the driver is written after the transaction: a driver keeps records of its own (the
    # simulator's vial, the monitor's record of outputs), and waiting for their locks while
    # holding this one could deadlock with a process that takes them in the other order.
    # Each channel gets the value stored now, so the latest change wins whatever the order.
    if changed:
        latest = current_intensities()
        for channel in changed:
            driver.set_intensity(channel, latest[channel])
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
    with local_intermittent_storage("led_locks") as store, store.transaction():
        for channel in channels:
            store[channel] = os.getpid()
    try:
        yield
    finally:
        with local_intermittent_storage("led_locks") as store, store.transaction():
            for channel in channels:
                if store.get(channel) == os.getpid():
                    del store[channel]


@contextmanager
def temporarily(desired: Mapping[str, float], *, source_of_event: str) -> Iterator[dict[str, float]]:
    """Set LEDs for the duration of the block, then put back what was there before, on the
    channels nobody else changed meanwhile."""
    previous = current_intensities()
    owners = output_holders([f"led:{ch}" for ch in desired])
    set_intensities(desired, source_of_event=source_of_event, verbose=False)
    # what this block set (a channel another job held keeps its value, so the check below skips it)
    switched = {ch: float(value) for ch, value in desired.items()}
    try:
        yield previous
    finally:
        # what is put back stays whoever's it was (a job killed later must not take it down); a
        # channel someone changed meanwhile keeps the newer value
        with on_behalf_of(owners):
            set_intensities(
                {ch: previous[ch] for ch in desired},
                source_of_event=source_of_event,
                verbose=False,
                only_if={ch: switched[ch] for ch in desired},
            )

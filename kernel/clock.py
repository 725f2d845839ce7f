"""The one source of time. Every timer and timestamp goes through it.

Speed 1 (real hardware) is the wall clock and nothing else: no shared state, no extra work.

With ``[simulation] clock_speed`` above 1, time runs up to that many times faster than the wall
clock, on one timeline shared by every process of the unit (`shared_scaled_clock`). It is a
*governed* clock (see `kernel/clock_governor.py` and docs/vial.md): every timed wait registers
its deadline, and simulated time never runs more than ``lead`` seconds past a deadline whose
thread has not yet woken and finished what was due. A process the machine holds up stops the
clock instead of losing simulated minutes; the clock then runs slower than ``clock_speed`` and
`ScaledClock.report` says by how much.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any


class Clock:
    """Real time (speed 1). `ScaledClock` overrides `time` and the conversions."""

    speed: float = 1.0

    def time(self) -> float:
        """Seconds since the Unix epoch, as the experiment experiences them."""
        return time.time()

    def monotonic(self) -> float:
        """Seconds that never jump backwards, for measuring intervals."""
        return time.monotonic() * self.speed

    def to_real(self, seconds: float) -> float:
        """How many wall-clock seconds this many clock seconds last (at most)."""
        return seconds / self.speed

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(self.to_real(seconds))

    def wait(self, event: threading.Event, seconds: float | None) -> bool:
        """Wait for ``event`` at most ``seconds`` clock seconds; True if it was set."""
        return event.wait(None if seconds is None else max(0.0, self.to_real(seconds)))

    @contextmanager
    def participating(self) -> Iterator[None]:
        """Mark this thread as one whose work the clock waits for between its timed waits (a
        periodic timer). A no-op on the real clock."""
        yield

    def utc_now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def utc_timestamp(self) -> str:
        """ISO 8601 with microseconds and a Z, e.g. ``2026-11-21T09:48:57.496123Z``."""
        return self.utc_now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ScaledClock(Clock):
    """A clock ``speed`` times faster than the wall clock from an origin, ungoverned: this
    process's view only. The unit's processes use `GovernedClock` (`shared_scaled_clock`)."""

    def __init__(self, speed: float, origin_real: float, origin_simulated: float) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self.speed = speed
        self.origin_real = origin_real
        self.origin_simulated = origin_simulated

    def time(self) -> float:
        return self.origin_simulated + (time.time() - self.origin_real) * self.speed

    def report(self) -> dict[str, Any]:
        return {"speed": self.speed, "held_seconds": 0.0}


def shared_scaled_clock(speed: float) -> Clock:
    """The governed scaled clock every process of this unit shares (its state in the unit's
    storage folder)."""
    from pioreactor.kernel.clock_governor import GovernedClock

    return GovernedClock.open(speed)


_clock: Clock | None = None


def get_clock() -> Clock:
    """This process's clock, chosen from ``[simulation] clock_speed`` on first use."""
    global _clock
    if _clock is None:
        from pioreactor.kernel.config import get_config

        speed = get_config().getfloat("simulation", "clock_speed")
        _clock = Clock() if speed == 1.0 else shared_scaled_clock(speed)
    return _clock


def set_clock(clock: Clock | None) -> None:
    global _clock
    _clock = clock

"""The one source of time. Every timer and timestamp goes through it.

With ``[simulation] clock_speed`` above 1, time runs faster than the wall clock: at 600, ten
simulated minutes pass per second. All processes of a unit share one origin (kept in
intermittent storage), so a stirring job and an OD job started seconds apart agree on the time.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


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
        """How many wall-clock seconds this many clock seconds last."""
        return seconds / self.speed

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(self.to_real(seconds))

    def wait(self, event: threading.Event, seconds: float | None) -> bool:
        """Wait for ``event`` at most ``seconds`` clock seconds; True if it was set."""
        return event.wait(None if seconds is None else max(0.0, self.to_real(seconds)))

    def utc_now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def utc_timestamp(self) -> str:
        """ISO 8601 with microseconds and a Z, e.g. ``2026-11-21T09:48:57.496123Z``."""
        return self.utc_now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ScaledClock(Clock):
    def __init__(self, speed: float, origin_real: float, origin_simulated: float) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self.speed = speed
        self.origin_real = origin_real
        self.origin_simulated = origin_simulated

    def time(self) -> float:
        return self.origin_simulated + (time.time() - self.origin_real) * self.speed


def shared_scaled_clock(speed: float) -> ScaledClock:
    """A scaled clock anchored to the origin every process of this unit uses."""
    from pioreactor.kernel.storage import local_intermittent_storage

    with local_intermittent_storage("clock") as store:
        origin = store.get("origin")
        now = time.time()
        if origin is None:
            origin = {"speed": speed, "real": now, "simulated": now}
            store["origin"] = origin
        elif origin["speed"] != speed:
            # keep simulated time continuous when the speed changes
            simulated_now = origin["simulated"] + (now - origin["real"]) * origin["speed"]
            origin = {"speed": speed, "real": now, "simulated": simulated_now}
            store["origin"] = origin
    return ScaledClock(speed, origin["real"], origin["simulated"])


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

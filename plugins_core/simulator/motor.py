"""A stirring motor with inertia, static friction and a hall sensor.

Speed follows the duty cycle as a first-order system: it approaches
``rpm_per_duty_cycle * (duty_cycle - deadband)`` with time constant ``time_constant``. A stir
bar at rest stays at rest until the duty cycle exceeds ``breakaway`` (which is why the stirring
job kicks the motor at start-up). The hall sensor gives ``pulses_per_revolution`` falling edges
per turn, at the times the integrated angle crosses each pulse, with a little timing jitter.
"""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

MAX_RECORDED_EDGES = 20_000
EDGE_HISTORY_SECONDS = 30.0
EDGE_JITTER_SECONDS = 50e-6


@dataclass(frozen=True)
class MotorParameters:
    rpm_per_duty_cycle: float = 36.0
    deadband: float = 2.0
    breakaway: float = 8.0
    time_constant: float = 0.8
    speed_noise: float = 0.01
    pulses_per_revolution: int = 1


class StirringMotor:
    """Advances lazily: its state is brought up to ``now()`` whenever it is touched."""

    def __init__(
        self,
        params: MotorParameters,
        now: Callable[[], float],
        rng: random.Random,
        is_stalled: Callable[[], bool] = lambda: False,
    ) -> None:
        self.params = params
        self.now = now
        self.rng = rng
        self.is_stalled = is_stalled
        self.duty_cycle = 0.0
        self.rpm = 0.0
        self.revolutions = 0.0
        self.t = now()
        self._lock = threading.Lock()
        self._edges: deque[float] = deque(maxlen=MAX_RECORDED_EDGES)

    # -- the physics -------------------------------------------------------------------------
    def _steady_state_rpm(self, stalled: bool) -> float:
        p = self.params
        if stalled or self.duty_cycle <= p.deadband:
            return 0.0
        if self.rpm < 1.0 and self.duty_cycle < p.breakaway:
            return 0.0  # static friction holds the bar
        noise = 1.0 + self.rng.gauss(0.0, p.speed_noise)
        return max(0.0, p.rpm_per_duty_cycle * (self.duty_cycle - p.deadband) * noise)

    def _revolutions_after(self, s: float, rpm0: float, target: float) -> float:
        tau = self.params.time_constant
        return (target * s + (rpm0 - target) * tau * (1.0 - math.exp(-s / tau))) / 60.0

    def _advance(self) -> None:
        now = self.now()
        dt = now - self.t
        if dt <= 0:
            return
        stalled = self.is_stalled()
        if stalled:
            self.rpm = 0.0
        target = self._steady_state_rpm(stalled)
        rpm0 = self.rpm
        if rpm0 == 0.0 and target == 0.0:
            self.t = now
            return
        if dt > EDGE_HISTORY_SECONDS:
            # edges older than any measurement window are never read: move the angle on in one
            # step, and only work out the edge times of the last stretch
            skip = dt - EDGE_HISTORY_SECONDS
            self.revolutions += self._revolutions_after(skip, rpm0, target)
            rpm0 = target + (rpm0 - target) * math.exp(-skip / self.params.time_constant)
            self.rpm, self.t, dt = rpm0, self.t + skip, EDGE_HISTORY_SECONDS
            self._edges.clear()
        total = self._revolutions_after(dt, rpm0, target)
        self._record_edges(rpm0, target, dt, total)
        rpm1 = target + (rpm0 - target) * math.exp(-dt / self.params.time_constant)
        self.rpm = 0.0 if (target == 0.0 and rpm1 < 0.5) else rpm1
        self.revolutions += total
        self.t = now

    def _record_edges(self, rpm0: float, target: float, dt: float, total: float) -> None:
        ppr = self.params.pulses_per_revolution
        start_pulses = self.revolutions * ppr
        first = math.floor(start_pulses) + 1
        last = math.floor(start_pulses + total * ppr)
        if last < first:
            return
        # only the most recent edges can be kept: skip the ones that would be dropped anyway
        first = max(first, last - MAX_RECORDED_EDGES + 1)
        steady = abs(rpm0 - target) < 1e-6 * max(1.0, target)
        for k in range(first, last + 1):
            needed = (k - start_pulses) / ppr  # revolutions from self.t to this edge
            if steady:
                s = needed * 60.0 / target
            else:
                s = self._solve(needed, rpm0, target, dt)
            self._edges.append(self.t + s + self.rng.gauss(0.0, EDGE_JITTER_SECONDS))

    def _solve(self, revolutions: float, rpm0: float, target: float, dt: float) -> float:
        low, high = 0.0, dt
        for _ in range(40):  # bisection on a monotonic function: 40 halvings is far below 1 µs
            mid = (low + high) / 2
            if self._revolutions_after(mid, rpm0, target) < revolutions:
                low = mid
            else:
                high = mid
        return (low + high) / 2

    # -- what the backend exposes --------------------------------------------------------------
    def set_duty_cycle(self, duty_cycle: float) -> None:
        with self._lock:
            self._advance()  # the old duty cycle applied until now
            self.duty_cycle = duty_cycle

    def current_rpm(self) -> float:
        with self._lock:
            self._advance()
            return self.rpm

    def reset_edges(self) -> None:
        with self._lock:
            self._advance()
            self._edges.clear()

    def edges(self) -> list[float]:
        with self._lock:
            self._advance()
            return list(self._edges)

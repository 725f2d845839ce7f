"""Dodging OD readings: pause an actuator (stirring, air bubbling) while the OD is read.

od_reading publishes retained ``interval`` and ``first_od_obs_time``; readings happen at
``first + k * interval``. ``ODDodger`` calls ``before()`` ``pre_seconds`` ahead of each reading
and ``after()`` once ``reading_seconds + post_seconds`` have passed, on the kernel clock, for as
long as od_reading runs (an empty ``interval`` means it stopped).

    dodger = ODDodger(job, before=self.stop_motor, after=self.start_motor)
    dodger.enable()
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

from pioreactor.sdk import Message


class ODDodger:
    """Calls ``before()`` ahead of each OD reading of ``job``'s unit and ``after()`` once it is done."""

    def __init__(
        self,
        job: Any,
        *,
        before: Callable[[], None],
        after: Callable[[], None],
        pre_seconds: float = 1.0,
        reading_seconds: float = 0.5,
        post_seconds: float = 0.5,
    ) -> None:
        self.job = job
        self.before = before
        self.after = after
        self.pre = pre_seconds
        self.reading = reading_seconds
        self.post = post_seconds
        self.interval: float | None = None
        self.first_obs: float | None = None
        self.dodging = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._subscriptions: list[Any] = []

    @property
    def window(self) -> float:
        """Seconds around each reading that the output is paused."""
        return self.pre + self.reading + self.post

    def enable(self) -> None:
        """Start following od_reading's schedule (idempotent)."""
        if self._subscriptions:
            return
        prefix = f"pioreactor/{self.job.unit}/{self.job.experiment}/od_reading"
        bus = self.job.bus
        self._subscriptions = [
            bus.subscribe(f"{prefix}/interval", self._on_interval),
            bus.subscribe(f"{prefix}/first_od_obs_time", self._on_first_obs),
        ]
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="od-dodging", daemon=True)
        self._thread.start()

    def disable(self) -> None:
        for sub in self._subscriptions:
            self.job.bus.unsubscribe(sub)
        self._subscriptions = []
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)
        self._thread = None
        if self.dodging:
            self._end_dodge()

    def _on_interval(self, message: Message) -> None:
        try:
            self.interval = float(message.text()) if message.payload else None
        except ValueError:
            self.interval = None
        self._wake.set()

    def _on_first_obs(self, message: Message) -> None:
        try:
            self.first_obs = float(message.text()) if message.payload else None
        except ValueError:
            self.first_obs = None
        self._wake.set()

    def next_reading_after(self, t: float) -> float | None:
        """Clock time of the first OD reading at or after ``t`` (None while od_reading is not running)."""
        if self.interval is None or self.first_obs is None:
            return None
        k = max(0, math.ceil((t - self.first_obs) / self.interval))
        return self.first_obs + k * self.interval

    def _end_dodge(self) -> None:
        self.dodging = False
        self.after()

    def quiet_until(self, now: float, needed: float) -> float:
        """When a quiet stretch of ``needed`` seconds (no dodge) starts, from ``now`` on."""
        start = now
        while True:
            reading = self.next_reading_after(start)
            if reading is None or start + needed <= reading - self.pre:
                return start
            start = reading + self.reading + self.post

    def _loop(self) -> None:
        clock = self.job.clock
        warned = False
        while not self._stop.is_set():
            self._wake.clear()
            now = clock.time()
            reading = self.next_reading_after(now + self.pre)
            if reading is None:
                clock.wait(self._wake, None if self.interval is None else 5.0)
                continue
            if self.interval is not None and self.interval <= self.window:
                if not warned:
                    self.job.logger.error(
                        "od_reading's interval (%.1f s) is too short to dodge its readings (needs more than %.1f s).",
                        self.interval,
                        self.window,
                    )
                    warned = True
                clock.wait(self._wake, None)
                continue
            if clock.wait(self._wake, reading - self.pre - now):
                continue  # the schedule changed
            if self._stop.is_set():
                return
            self.dodging = True
            self.before()
            clock.wait(self._stop, self.window)
            if self.dodging:
                self._end_dodge()

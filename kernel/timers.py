"""Timers that run on the kernel clock, so a scaled clock speeds them up too."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from pioreactor.kernel.clock import Clock, get_clock

log = logging.getLogger("pioreactor.timers")


class RepeatedTimer:
    """Calls ``function`` every ``interval`` clock seconds at a fixed phase, in a daemon thread.

    Exceptions are logged and the timer keeps going; ``pause()`` skips calls but keeps the phase.
    """

    def __init__(
        self,
        interval: float,
        function: Callable[..., Any],
        *,
        run_immediately: bool = False,
        run_after: float = 0.0,
        name: str | None = None,
        clock: Clock | None = None,
        args: tuple[Any, ...] = (),
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        self.interval = interval
        self.function = function
        self.args = args
        self.run_immediately = run_immediately
        self.run_after = max(0.0, run_after)
        self.clock = clock or get_clock()
        self._stop = threading.Event()
        self._paused = False
        self._thread = threading.Thread(
            target=self._run, name=name or f"timer-{function.__name__}", daemon=True
        )

    def start(self) -> RepeatedTimer:
        if not self._thread.is_alive() and not self._stop.is_set():
            self._thread.start()
        return self

    def _call(self) -> None:
        if self._paused:
            return
        try:
            self.function(*self.args)
        except Exception:
            log.exception("%s raised; the timer continues", getattr(self.function, "__name__", self.function))

    def _run(self) -> None:
        # on a governed (simulated) clock, time waits for this thread's calls: see clock_governor
        with self.clock.participating():
            self._loop()

    def _loop(self) -> None:
        if self.run_after and self.clock.wait(self._stop, self.run_after):
            return
        start = self.clock.monotonic()
        if self.run_immediately:
            self._call()
        while not self._stop.is_set():
            elapsed = self.clock.monotonic() - start
            if self.clock.wait(self._stop, self.interval - (elapsed % self.interval)):
                return
            self._call()

    def pause(self) -> None:
        self._paused = True

    def unpause(self) -> None:
        self._paused = False

    @property
    def is_paused(self) -> bool:
        return self._paused

    def cancel(self, timeout: float = 1.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

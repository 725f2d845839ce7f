"""Blink patterns on the board's status LED, one at a time, in a background thread."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

# (on seconds, off seconds) pairs
OKAY_PATTERN = [(0.14, 0.14), (0.14, 0.45)] * 4
LONG_FLASH = (2.0, 0.25)
SHORT_FLASH = (0.25, 0.25)


def error_pattern(code: int) -> list[tuple[float, float]]:
    return [LONG_FLASH] + [SHORT_FLASH] * max(0, int(code))


class StatusLed:
    """Plays patterns on ``board.set_status_led`` one after the other (a few may wait their turn)."""

    MAX_WAITING = 4

    def __init__(self, board: Any, logger: Any) -> None:
        self.board = board
        self.logger = logger
        self._queue: queue.Queue[list[tuple[float, float]]] = queue.Queue(self.MAX_WAITING)
        self._held = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self.board is not None and hasattr(self.board, "set_status_led")

    def set(self, on: bool) -> None:
        if self.available:
            try:
                self.board.set_status_led(on)
            except Exception as err:
                self.logger.debug("Could not switch the status LED: %s", err)

    def hold(self, on: bool) -> None:
        """Keep the LED on (while the button is held), or let it go."""
        self._held = on
        self.set(on)

    def play(self, pattern: list[tuple[float, float]]) -> bool:
        """Queue ``pattern``; False if the LED is missing or too many patterns wait already."""
        if not self.available:
            return False
        try:
            self._queue.put_nowait(pattern)
        except queue.Full:
            return False
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._play_all, name="status-led", daemon=True)
                self._thread.start()
        return True

    def _play_all(self) -> None:
        while True:
            try:
                pattern = self._queue.get(timeout=1.0)
            except queue.Empty:
                with self._lock:  # `play` starts a new thread once this one is marked gone
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            for on_seconds, off_seconds in pattern:
                self.set(True)
                time.sleep(on_seconds)  # wall-clock: a pattern is for people to read
                self.set(False)
                time.sleep(off_seconds)
            self.set(self._held)

    def blink_error_code(self, code: int) -> bool:
        return self.play(error_pattern(code))

    def flicker_okay(self) -> bool:
        return self.play(OKAY_PATTERN)

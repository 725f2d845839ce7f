"""A scaled clock that a busy machine cannot distort: simulated time waits for late processes.

The unit's processes share one small memory-mapped file (``$PIO_HOME/storage/clock.bin``):

* the timeline: speed, an origin (a ``time.monotonic()`` instant and the simulated time then)
  and the simulated seconds the clock was held back so far;
* claims, one per waiting thread: (pid, thread, deadline in simulated time, wall expiry).

Simulated time is ``origin_sim + (wall - origin_real) * speed``, but never more than ``lead``
seconds past the earliest claim. A thread that waits on the clock claims its deadline; when the
machine holds it up past that deadline, the clock stops at deadline + lead until the thread
runs again, instead of running on without it. A thread that `participating` marks (a periodic
timer) keeps its claim after waking, until its next wait: the clock also waits for the work it
does when it wakes. Whoever changes the claims first re-anchors the origin at the current
(possibly held) time, so time is continuous and never jumps forward after a hold.

Claims of dead processes, of threads stuck past ``HOLD_LIMIT_SECONDS`` of wall time, and of
woken participants busy for more than ``RUNNING_HOLD_SECONDS`` are dropped when they hold the
clock, so a killed or stuck job cannot freeze the unit. `report` says how much simulated time was
held back.
"""

from __future__ import annotations

import fcntl
import logging
import mmap
import os
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pioreactor.kernel.clock import Clock

log = logging.getLogger("pioreactor.clock")

MAGIC = b"PCK2"
HEADER = struct.Struct("<4s36sddddI")  # magic, boot id, speed, origin_real, origin_sim, held, n slots
SLOT = struct.Struct("<qqdd")  # pid, thread id, deadline (simulated), expiry (monotonic wall)
MAX_SLOTS = 256
FILE_SIZE = HEADER.size + MAX_SLOTS * SLOT.size
#: how far simulated time may run past a claimed deadline (simulated seconds), by default
DEFAULT_LEAD_SECONDS = 2.0
#: a waiting thread that has not woken this long (wall seconds) after its deadline stops holding
#: the clock (a stopped or stuck process)
HOLD_LIMIT_SECONDS = 2.0
#: how long (wall seconds) a woken participant holds the clock at most before its next wait: a
#: machine holds a thread up for milliseconds; longer, the thread is waiting for something else
#: (a message from another process, which may need simulated time to pass first)
RUNNING_HOLD_SECONDS = 0.25
#: shortest wall-clock wait while the clock is held
MIN_POLL_SECONDS = 0.001

_thread_state = threading.local()


def _boot_id() -> bytes:
    try:
        with open("/proc/sys/kernel/random/boot_id", "rb") as f:
            return f.read().strip()[:36].ljust(36, b"\0")
    except OSError:
        return b"unknown".ljust(36, b"\0")


def _alive(pid: int) -> bool:
    """False for a process that is gone or a zombie (killed, not yet reaped)."""
    from pioreactor.kernel.job_registry import is_process_alive  # sqlite3 only when a claim is checked

    return is_process_alive(pid, None)


class GovernedClock(Clock):
    """The unit's shared scaled clock; see the module docstring."""

    def __init__(self, path: str, speed: float, lead: float = DEFAULT_LEAD_SECONDS) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        if lead <= 0:
            raise ValueError(f"the clock's lead must be positive, got {lead}")
        self.path = path
        self.speed = speed
        self.lead = lead
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if os.fstat(self._fd).st_size < FILE_SIZE:
            with self._exclusive_file():
                if os.fstat(self._fd).st_size < FILE_SIZE:
                    os.ftruncate(self._fd, FILE_SIZE)
        self._map = mmap.mmap(self._fd, FILE_SIZE)
        with self._exclusive():
            magic, boot, old_speed, _, _, _, _ = HEADER.unpack_from(self._map, 0)
            if magic != MAGIC or boot != _boot_id():
                self._map[:FILE_SIZE] = bytes(FILE_SIZE)
                HEADER.pack_into(self._map, 0, MAGIC, _boot_id(), speed, time.monotonic(), time.time(), 0.0, 0)
            elif old_speed != speed:  # keep simulated time continuous when the speed changes
                self._reanchor(time.monotonic(), speed)

    @classmethod
    def open(cls, speed: float, lead: float = DEFAULT_LEAD_SECONDS) -> GovernedClock:
        from pioreactor.kernel.paths import storage_dir

        return cls(str(storage_dir() / "clock.bin"), speed, lead)

    # -- locking -------------------------------------------------------------------------------
    @contextmanager
    def _exclusive_file(self) -> Iterator[None]:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._lock, self._exclusive_file():
            yield

    # -- reading the timeline ------------------------------------------------------------------
    def _claims(self, n: int) -> list[tuple[int, int, int, float, float]]:
        claims = []
        for i in range(n):
            pid, tid, deadline, expiry = SLOT.unpack_from(self._map, HEADER.size + i * SLOT.size)
            if pid:
                claims.append((i, pid, tid, deadline, expiry))
        return claims

    def _state(self) -> tuple[float, float, float, float, list[tuple[int, int, int, float, float]]]:
        _, _, speed, origin_real, origin_sim, held, n = HEADER.unpack_from(self._map, 0)
        return speed, origin_real, origin_sim, held, self._claims(n)

    def _now(self, wall: float) -> tuple[float, float, tuple[int, int, int, float, float] | None]:
        """(governed time, ungoverned time, the claim holding the clock or None); call locked."""
        speed, origin_real, origin_sim, _, claims = self._state()
        self.speed = speed
        raw = origin_sim + (wall - origin_real) * speed
        if not claims:
            return raw, raw, None
        first = min(claims, key=lambda c: c[3])
        barrier = first[3] + self.lead
        return (raw, raw, None) if raw <= barrier else (barrier, raw, first)

    def time(self) -> float:
        with self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_SH)
            try:
                wall = time.monotonic()  # read under the lock: an origin is never after it
                now, _, holder = self._now(wall)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        if holder is not None and (holder[4] < wall or not _alive(holder[1])):
            self._drop_stale()
            return self.time()
        return now

    def monotonic(self) -> float:
        return self.time()

    def report(self) -> dict[str, Any]:
        """The speed asked for, and the simulated seconds the clock was held back for late
        processes since it was created."""
        with self._lock:
            speed, _, _, held, claims = self._state()
            now, raw, _ = self._now(time.monotonic())
        return {"speed": speed, "held_seconds": held + (raw - now), "claims": len(claims)}

    # -- changing the claims (always re-anchored first) ----------------------------------------
    def _reanchor(self, wall: float, speed: float | None = None) -> float:
        """Move the origin to now at the current governed time; call exclusively locked."""
        now, raw, _ = self._now(wall)
        _, boot, old_speed, _, _, held, n = HEADER.unpack_from(self._map, 0)
        HEADER.pack_into(
            self._map, 0, MAGIC, boot, old_speed if speed is None else speed, wall, now, held + (raw - now), n
        )
        return now

    def _drop_stale(self) -> None:
        dropped = []
        with self._exclusive():
            wall = time.monotonic()
            self._reanchor(wall)
            _, _, _, _, claims = self._state()
            for i, pid, _tid, _deadline, expiry in claims:
                if expiry < wall or not _alive(pid):
                    dropped.append(pid)
                    self._write_slot(i, 0, 0, 0.0, 0.0)
        # never log under the lock: a log handler may ask this clock for the time
        for pid in dropped:
            log.debug("The simulated clock goes on without process %d's claim.", pid)

    def _write_slot(self, i: int, pid: int, tid: int, deadline: float, expiry: float) -> None:
        SLOT.pack_into(self._map, HEADER.size + i * SLOT.size, pid, tid, deadline, expiry)
        n = HEADER.unpack_from(self._map, 0)[6]
        if pid and i >= n:
            struct.pack_into("<I", self._map, HEADER.size - 4, i + 1)

    def _slot_of(self, tid: int, claims: list[tuple[int, int, int, float, float]]) -> int | None:
        for i, pid, t, _, _ in claims:
            if pid == self._pid and t == tid:
                return i
        return None

    def _claim(self, seconds: float | None, expiry_in: float) -> float:
        """Claim a deadline ``seconds`` from now for this thread (None: keep the deadline it
        had, or now); returns the deadline."""
        tid = threading.get_ident()
        with self._exclusive():
            wall = time.monotonic()
            now = self._reanchor(wall)
            _, _, _, _, claims = self._state()
            i = self._slot_of(tid, claims)
            if seconds is None:
                deadline = now if i is None else min(now, SLOT.unpack_from(self._map, HEADER.size + i * SLOT.size)[2])
            else:
                deadline = now + seconds
            if i is None:
                used = {c[0] for c in claims}
                free = [j for j in range(MAX_SLOTS) if j not in used]
                if not free:
                    return deadline  # a table full of claims: go on without this one
                i = free[0]
            self._write_slot(i, self._pid, tid, deadline, wall + expiry_in)
        return deadline

    def _release(self) -> None:
        tid = threading.get_ident()
        with self._exclusive():
            _, _, _, _, claims = self._state()
            i = self._slot_of(tid, claims)
            if i is not None:
                self._reanchor(time.monotonic())
                self._write_slot(i, 0, 0, 0.0, 0.0)

    # -- waiting -------------------------------------------------------------------------------
    def to_real(self, seconds: float) -> float:
        return seconds / self.speed

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.wait(threading.Event(), seconds)

    def wait(self, event: threading.Event, seconds: float | None) -> bool:
        if seconds is None:
            return event.wait()
        if seconds <= 0:
            return event.is_set()
        deadline = self._claim(seconds, seconds / self.speed + HOLD_LIMIT_SECONDS)
        try:
            while True:
                remaining = deadline - self.time()
                if remaining <= 0:
                    return event.is_set()
                if event.wait(max(remaining / self.speed, MIN_POLL_SECONDS)):
                    return True
        finally:
            if getattr(_thread_state, "participating", False):
                self._claim(None, RUNNING_HOLD_SECONDS)  # the clock waits for what this thread does now
            else:
                self._release()

    @contextmanager
    def participating(self) -> Iterator[None]:
        _thread_state.participating = True
        self._claim(None, RUNNING_HOLD_SECONDS)  # from now: its first call may be right away
        try:
            yield
        finally:
            _thread_state.participating = False
            self._release()

"""Which job holds which output: the unit's record of every PWM channel and LED driven through
the kernel (``$PIO_HOME/storage/outputs.sqlite``, kept across reboots).

One row per output (``pwm:1``, ``led:A``): its last value and, while it is on, the job that set
it (job id and name, experiment, pid, the pid's start time, the boot). ``supervised_hardware.py``
writes the row of a switch-on in the same transaction as the hardware change, so a reader never
sees an output on without its holder (a switch-off goes to the hardware first, then the row). When a job stops cleanly it lets go of its rows (``release_job``): what it left on on
purpose (an LED it lit) stays on, unheld. A row still held by a process that is gone (``kill
-9``, a crash, a power cut) is an *orphan*: the monitor switches it off.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pioreactor.kernel import paths
from pioreactor.kernel.job_registry import is_process_alive, now_utc, process_start_ticks
from pioreactor.kernel.storage import connect, current_boot_id

PWM, LED = "pwm", "led"
#: a hardware change waits at most this long for the record's lock (then goes ahead unrecorded)
BUSY_TIMEOUT_MS = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS outputs (
    output TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    device TEXT NOT NULL,
    value REAL NOT NULL,
    experiment TEXT,
    job_id INTEGER,
    job_name TEXT,
    pid INTEGER,
    pid_start_ticks TEXT,
    boot_id TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""
COLUMNS = "output, kind, channel, device, value, experiment, job_id, job_name, pid, pid_start_ticks, boot_id, updated_at"


@dataclass(frozen=True)
class Holder:
    """The job that set an output."""

    job_id: int
    job_name: str
    experiment: str
    pid: int
    pid_start_ticks: str | None
    boot_id: str


@dataclass(frozen=True)
class OutputRecord:
    output: str
    kind: str
    channel: str
    device: str
    value: float
    experiment: str | None
    holder: Holder | None
    updated_at: str
    #: the boot in which it was last set
    boot_id: str

    @property
    def label(self) -> str:
        """How a person names it: ``heating (PWM 5)``, ``LED A``."""
        if self.kind == LED:
            return f"LED {self.channel}"
        return f"{self.device} (PWM {self.channel})" if self.device else f"PWM {self.channel}"

    def is_from_this_boot(self) -> bool:
        return self.boot_id == current_boot_id()

    def is_orphan(self) -> bool:
        """On, and held by a process that is gone (or that ran before this boot)."""
        if self.value <= 0:
            return False
        holder = self.holder
        if self.boot_id != current_boot_id():  # nothing that ran before this boot is watching it
            return True
        if holder is None:  # left on on purpose (an LED a person lit)
            return False
        return not is_process_alive(holder.pid, holder.pid_start_ticks)


def outputs_path() -> Path:
    return paths.storage_file("outputs.sqlite")


_per_thread = threading.local()


def _conn() -> sqlite3.Connection:
    cache: dict[str, sqlite3.Connection] = _per_thread.__dict__.setdefault("connections", {})
    path = str(outputs_path())
    conn = cache.get(path)
    if conn is None:
        conn = cache[path] = connect(Path(path))
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.executescript(SCHEMA)
    return conn


def forget_connections() -> None:
    """Close this thread's cached connection (a later use opens it again)."""
    for conn in _per_thread.__dict__.pop("connections", {}).values():
        conn.close()


@contextmanager
def transaction() -> Iterator[sqlite3.Connection]:
    """Exclusive across the unit's processes; re-entrant within a thread."""
    conn = _conn()
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# -- who holds what this process sets ------------------------------------------------------------
_jobs: list[Holder] = []  # the running jobs of this process, first started first
_jobs_lock = threading.Lock()
_on_behalf = threading.local()


def job_started(job_id: int, job_name: str, experiment: str) -> None:
    """A job of this process registered: what the process sets from now on is held by it (by the
    first such job, when several run in one process)."""
    pid = os.getpid()
    with _jobs_lock:
        if not _jobs:
            atexit.register(_release_this_process)
        _jobs.append(Holder(job_id, job_name, experiment, pid, process_start_ticks(pid), current_boot_id()))


def job_stopped(job_id: int) -> None:
    """A job cleaned up: it no longer holds anything (what it left on stays on, unheld)."""
    with _jobs_lock:
        _jobs[:] = [job for job in _jobs if job.job_id != job_id]
    with transaction() as conn:
        conn.execute(
            "UPDATE outputs SET job_id = NULL, job_name = NULL, pid = NULL, pid_start_ticks = NULL "
            "WHERE job_id = ? AND pid = ?",
            (job_id, os.getpid()),
        )


def _release_this_process() -> None:
    try:
        with transaction() as conn:
            conn.execute(
                "UPDATE outputs SET job_id = NULL, job_name = NULL, pid = NULL, pid_start_ticks = NULL "
                "WHERE pid = ? AND boot_id = ?",
                (os.getpid(), current_boot_id()),
            )
    except sqlite3.Error:
        pass  # the monitor finds the rows orphaned instead


def current_holder() -> Holder | None:
    with _jobs_lock:
        return _jobs[0] if _jobs else None


def holders(outputs: list[str]) -> dict[str, Holder | None]:
    """Who holds each of ``outputs`` now (to hand them back after a temporary change)."""
    found = {record.output: record.holder for record in all_outputs() if record.output in outputs}
    return {output: found.get(output) for output in outputs}


@contextmanager
def on_behalf_of(holders_by_output: dict[str, Holder | None]) -> Iterator[None]:
    """Changes made inside are recorded as made by the given holders: putting back a value
    another job (or a person) set leaves that output theirs."""
    previous = getattr(_on_behalf, "map", None)
    _on_behalf.map = holders_by_output
    try:
        yield
    finally:
        _on_behalf.map = previous


# -- rows ---------------------------------------------------------------------------------------
def record(kind: str, channel: str, device: str, value: float) -> OutputRecord:
    """Note that this process set ``kind:channel`` to ``value`` (call inside ``transaction()``)."""
    output = f"{kind}:{channel}"
    override = getattr(_on_behalf, "map", None)
    holder = override[output] if override is not None and output in override else current_holder()
    if value <= 0:
        holder = None
    experiment = holder.experiment if holder is not None else None
    now = now_utc()
    _conn().execute(
        f"INSERT INTO outputs ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(output) DO UPDATE SET kind = excluded.kind, channel = excluded.channel, "
        "device = excluded.device, value = excluded.value, experiment = excluded.experiment, "
        "job_id = excluded.job_id, job_name = excluded.job_name, pid = excluded.pid, "
        "pid_start_ticks = excluded.pid_start_ticks, boot_id = excluded.boot_id, updated_at = excluded.updated_at",
        (
            output,
            kind,
            channel,
            device,
            float(value),
            experiment,
            holder.job_id if holder else None,
            holder.job_name if holder else None,
            holder.pid if holder else None,
            holder.pid_start_ticks if holder else None,
            holder.boot_id if holder else current_boot_id(),
            now,
        ),
    )
    return OutputRecord(output, kind, channel, device, float(value), experiment, holder, now, current_boot_id())


def _from_row(row: tuple) -> OutputRecord:
    output, kind, channel, device, value, experiment, job_id, job_name, pid, ticks, boot_id, updated_at = row
    holder = Holder(job_id, job_name or "", experiment or "", pid, ticks, boot_id) if pid is not None else None
    return OutputRecord(output, kind, channel, device, float(value), experiment, holder, updated_at, boot_id)


def all_outputs() -> list[OutputRecord]:
    rows = _conn().execute(f"SELECT {COLUMNS} FROM outputs ORDER BY output").fetchall()
    return [_from_row(row) for row in rows]


def get(output: str) -> OutputRecord | None:
    row = _conn().execute(f"SELECT {COLUMNS} FROM outputs WHERE output = ?", (output,)).fetchone()
    return _from_row(row) if row is not None else None


def orphans() -> list[OutputRecord]:
    """Outputs on whose holder is gone, and outputs left on before this boot."""
    return [record for record in all_outputs() if record.is_orphan()]


def pwm_duty_cycles() -> dict[str, float]:
    """The last duty cycle of each PWM channel set on this unit."""
    rows = _conn().execute("SELECT channel, value FROM outputs WHERE kind = ?", (PWM,)).fetchall()
    return {channel: float(value) for channel, value in rows}

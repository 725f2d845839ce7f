"""The registry of jobs on this unit: a SQLite file (``$PIO_HOME/storage/jobs.sqlite``).

It knows each job's pid, name, experiment, source and start time, whether it is long-running
(``monitor``, ``mqtt_to_db_streaming``: spared by ``pio kill --all-jobs``) or exclusive
(``self_test``: no other job starts while it runs), and the last value of each setting it
published. Registering is atomic, so two starts of the same job cannot both win; an entry whose
process is gone (a SIGKILL, a power cut) is stale and does not block a new start.

A ``pio run NAME`` process *claims* its name as soon as it knows it (``claim``), before the job's
class is built; the job then adopts that row. ``pio kill`` so sees a job that is still starting,
and leaves a *stop request* that a process which had not claimed its name yet obeys when it does.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pioreactor.kernel import paths
from pioreactor.kernel.errors import JobAlreadyRunningError
from pioreactor.kernel.storage import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id INTEGER PRIMARY KEY AUTOINCREMENT,
    unit TEXT NOT NULL,
    experiment TEXT NOT NULL,
    job_name TEXT NOT NULL,
    job_source TEXT NOT NULL,
    pid INTEGER NOT NULL,
    pid_start_ticks TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    is_running INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS stop_requests (
    scope TEXT PRIMARY KEY,
    boot_id TEXT NOT NULL,
    ticks INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_running ON jobs (is_running, job_name);
CREATE TABLE IF NOT EXISTS job_settings (
    job_id INTEGER NOT NULL,
    setting TEXT NOT NULL,
    value TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (job_id, setting)
);
"""
# columns added after the first release: (name, definition), added to an older file on open
ADDED_COLUMNS = (
    ("is_long_running", "INTEGER NOT NULL DEFAULT 0"),
    ("is_exclusive", "INTEGER NOT NULL DEFAULT 0"),
    # 1 while a `pio run` process holds the name but no BackgroundJob has adopted the row yet
    ("is_claim", "INTEGER NOT NULL DEFAULT 0"),
)
ALL_JOBS = "*"


@dataclass(frozen=True)
class JobRecord:
    job_id: int
    unit: str
    experiment: str
    job_name: str
    job_source: str
    pid: int
    started_at: str
    ended_at: str | None
    is_running: bool
    is_long_running: bool = False
    is_exclusive: bool = False
    is_claim: bool = False


def registry_path() -> Path:
    return paths.storage_file("jobs.sqlite")


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat from the state onwards (None where /proc is unavailable)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name may contain spaces and parentheses: split after the last ')'
    return stat[stat.rindex(")") + 2 :].split()


def process_start_ticks(pid: int) -> str | None:
    """When the process started, to tell a live job from a recycled pid."""
    fields = _proc_stat(pid)
    return fields[19] if fields else None


def ticks_since_boot() -> int | None:
    """Now, in the clock ticks of ``/proc/<pid>/stat``'s start time (None without /proc)."""
    try:
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return int(uptime * os.sysconf("SC_CLK_TCK"))


def is_process_alive(pid: int, start_ticks: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    fields = _proc_stat(pid)
    if fields is None:
        return True
    if fields[0] in ("Z", "X"):  # exited, waiting for its parent to collect it
        return False
    return start_ticks is None or fields[19] == start_ticks


_lent: RunningJobs | None = None


def lend(registry: RunningJobs | None) -> None:
    """Offer this process's open registry connection (``pio run``'s claim keeps one for the life
    of the process) to the job built in it; None withdraws it. Each SQLite connection holds
    a few hundred kB of caches, so a job need not open a second one."""
    global _lent
    _lent = registry


def registry_for_job() -> tuple[RunningJobs, bool]:
    """A registry connection for a job, and whether the job owns it (so closes it)."""
    if _lent is not None:
        return _lent, False
    return RunningJobs(), True


class RunningJobs:
    """The jobs running on this unit (SQLite, one file per unit): pid, job, experiment, source and
    their last settings. Not the jobs that can run: see ``registries.targets.JobDefinitions``."""

    def __init__(self, path: Path | None = None) -> None:
        self.conn: sqlite3.Connection = connect(path or registry_path())
        self.conn.executescript(SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        present = {row[1] for row in self.conn.execute("PRAGMA table_info(jobs)")}
        for name, definition in ADDED_COLUMNS:
            if name not in present:
                try:
                    self.conn.execute(f"ALTER TABLE jobs ADD COLUMN {name} {definition}")
                except sqlite3.OperationalError as err:  # another process added it first
                    if "duplicate column" not in str(err):
                        raise

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> RunningJobs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _row(self, row: tuple) -> JobRecord:
        return JobRecord(
            row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], bool(row[8]),
            bool(row[10]), bool(row[11]), bool(row[12]),
        )

    def _alive_or_retire(self, rows: list[tuple]) -> list[JobRecord]:
        """Keep rows whose process lives; mark the others as ended."""
        alive = []
        for row in rows:
            job_id, pid, ticks = row[0], row[5], row[9]
            if is_process_alive(pid, ticks):
                alive.append(self._row(row))
            else:
                self.conn.execute(
                    "UPDATE jobs SET is_running = 0, ended_at = ? WHERE job_id = ?", (now_utc(), job_id)
                )
        return alive

    COLUMNS = (
        "job_id, unit, experiment, job_name, job_source, pid, started_at, ended_at, is_running, "
        "pid_start_ticks, is_long_running, is_exclusive, is_claim"
    )

    def register(
        self,
        *,
        unit: str,
        experiment: str,
        job_name: str,
        job_source: str,
        pid: int,
        long_running: bool = False,
        exclusive: bool = False,
    ) -> int:
        """Record a starting job; refuse if the same job already runs on this unit, or if an
        exclusive job runs (or, for an exclusive job, if any other job does).

        A claim of this process (``claim``) becomes the job's row."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            rows = self.conn.execute(
                f"SELECT {self.COLUMNS} FROM jobs WHERE is_running = 1 AND unit = ?", (unit,)
            ).fetchall()
            others = [r for r in self._alive_or_retire(rows) if r.pid != pid]
            self._refuse_conflicts(others, unit, job_name, long_running, exclusive)
            claim = self.conn.execute(
                "SELECT job_id FROM jobs WHERE is_running = 1 AND is_claim = 1 AND pid = ? ORDER BY job_id LIMIT 1",
                (pid,),
            ).fetchone()
            values = (unit, experiment, job_name, job_source, int(long_running), int(exclusive))
            if claim is not None:
                job_id = int(claim[0])
                self.conn.execute(
                    "UPDATE jobs SET unit = ?, experiment = ?, job_name = ?, job_source = ?, "
                    "is_long_running = ?, is_exclusive = ?, is_claim = 0 WHERE job_id = ?",
                    (*values, job_id),
                )
            else:
                cursor = self.conn.execute(
                    "INSERT INTO jobs (unit, experiment, job_name, job_source, is_long_running, is_exclusive, "
                    "pid, pid_start_ticks, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*values, pid, process_start_ticks(pid), now_utc()),
                )
                assert cursor.lastrowid is not None
                job_id = cursor.lastrowid
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return job_id

    @staticmethod
    def _refuse_conflicts(
        others: list[JobRecord], unit: str, job_name: str, long_running: bool, exclusive: bool
    ) -> None:
        jobs = [r for r in others if not r.is_claim]  # a claim is a start that may still be refused
        same = [r for r in jobs if r.job_name == job_name]
        if same:
            other = same[0]
            raise JobAlreadyRunningError(
                f"{job_name} is already running on {unit} (pid {other.pid}, experiment "
                f"{other.experiment!r}, started {other.started_at}). "
                f"Stop it first with: pio kill --job-name {job_name}"
            )
        if long_running:
            return
        blocking = [r for r in jobs if r.is_exclusive]
        if blocking:
            raise JobAlreadyRunningError(
                f"{blocking[0].job_name} is running on {unit}: no other job starts until it ends "
                f"(or stop it with: pio kill --job-name {blocking[0].job_name})"
            )
        if exclusive:  # claims count here: each is a job or an action on its way
            busy = sorted({r.job_name for r in others if not r.is_long_running})
            if busy:
                raise JobAlreadyRunningError(
                    f"{job_name} needs the unit to itself, but {', '.join(busy)} "
                    f"{'is' if len(busy) == 1 else 'are'} running on {unit}. "
                    "Stop them first with: pio kill --all-jobs"
                )

    def claim(self, *, unit: str, experiment: str, job_name: str, job_source: str, pid: int) -> int | None:
        """Note that process ``pid`` is starting ``pio run job_name``; None if a stop request
        (``request_stop``) came after the process started, in which case it must not start."""
        ticks = process_start_ticks(pid)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            if ticks is not None and self._stop_requested_since(int(ticks), job_name):
                self.conn.execute("COMMIT")
                return None
            cursor = self.conn.execute(
                "INSERT INTO jobs (unit, experiment, job_name, job_source, pid, pid_start_ticks, started_at, is_claim) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                (unit, experiment, job_name, job_source, pid, ticks, now_utc()),
            )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return cursor.lastrowid

    def _stop_requested_since(self, start_ticks: int, job_name: str) -> bool:
        from pioreactor.kernel.storage import current_boot_id

        boot_id = current_boot_id()
        for scope in (ALL_JOBS, job_name):
            row = self.conn.execute(
                "SELECT boot_id, ticks FROM stop_requests WHERE scope = ?", (scope,)
            ).fetchone()
            if row is not None and row[0] == boot_id and start_ticks <= int(row[1]):
                return True
        return False

    def request_stop(self, scope: str) -> None:
        """Remember that jobs of ``scope`` (a job name, or ``ALL_JOBS``) were asked to stop now:
        a process started before this moment that has not claimed its name yet will not start."""
        from pioreactor.kernel.storage import current_boot_id

        ticks = ticks_since_boot()
        if ticks is None:
            return
        self.conn.execute(
            "INSERT INTO stop_requests (scope, boot_id, ticks) VALUES (?, ?, ?) "
            "ON CONFLICT(scope) DO UPDATE SET boot_id = excluded.boot_id, ticks = excluded.ticks",
            (scope, current_boot_id(), ticks),
        )

    def refuse_if_exclusive_runs(self, *, unit: str, job_name: str, pid: int) -> None:
        """JobAlreadyRunningError if an exclusive job (``self_test``) runs: for an action, which
        (unlike a job) never registers. A job is refused when it registers."""
        rows = self.conn.execute(
            f"SELECT {self.COLUMNS} FROM jobs WHERE is_running = 1 AND unit = ? AND is_exclusive = 1", (unit,)
        ).fetchall()
        others = [r for r in self._alive_or_retire(rows) if r.pid != pid]
        self._refuse_conflicts(others, unit, job_name, long_running=False, exclusive=False)

    def release_claim(self, job_id: int, *, ran: bool = True) -> None:
        """The claiming process is ending: a row no job adopted (an action) is no longer running;
        one whose command never ran (a typo, ``--help``, a usage error) is forgotten."""
        if ran:
            self.conn.execute(
                "UPDATE jobs SET is_running = 0, ended_at = ? WHERE job_id = ? AND is_running = 1 AND is_claim = 1",
                (now_utc(), job_id),
            )
        else:
            self.conn.execute("DELETE FROM jobs WHERE job_id = ? AND is_claim = 1", (job_id,))

    def set_not_running(self, job_id: int) -> None:
        self.conn.execute(
            "UPDATE jobs SET is_running = 0, ended_at = ? WHERE job_id = ?", (now_utc(), job_id)
        )

    def record_setting(self, job_id: int, setting: str, value: str | None) -> None:
        self.conn.execute(
            "INSERT INTO job_settings (job_id, setting, value, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(job_id, setting) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (job_id, setting, value, now_utc()),
        )

    def settings(self, job_id: int) -> dict[str, str | None]:
        rows = self.conn.execute("SELECT setting, value FROM job_settings WHERE job_id = ?", (job_id,))
        return dict(rows.fetchall())

    def running(
        self,
        *,
        job_name: str | None = None,
        experiment: str | None = None,
        job_source: str | None = None,
        job_id: int | None = None,
    ) -> list[JobRecord]:
        """Jobs whose process is alive, optionally filtered; stale rows are retired on the way."""
        query = f"SELECT {self.COLUMNS} FROM jobs WHERE is_running = 1"
        args: list[str | int] = []
        filters = (("job_name", job_name), ("experiment", experiment), ("job_source", job_source), ("job_id", job_id))
        for column, value in filters:
            if value is not None:
                query += f" AND {column} = ?"
                args.append(value)
        rows = self.conn.execute(query + " ORDER BY job_id", args).fetchall()
        return self._alive_or_retire(rows)

    def get(self, job_id: int) -> JobRecord | None:
        row = self.conn.execute(f"SELECT {self.COLUMNS} FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return self._row(row) if row is not None else None

    def history(self, limit: int = 50) -> list[JobRecord]:
        self.running()  # retire stale rows first, so the history tells the truth
        rows = self.conn.execute(f"SELECT {self.COLUMNS} FROM jobs ORDER BY job_id DESC LIMIT ?", (limit,))
        return [self._row(row) for row in rows.fetchall()]

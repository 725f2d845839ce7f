"""The registry of jobs on this unit: a SQLite file (``$PIO_HOME/storage/jobs.sqlite``).

It knows each job's pid, name, experiment, source and start time, and the last value of each
setting it published. Registering is atomic, so two starts of the same job cannot both win; an
entry whose process is gone (a SIGKILL, a power cut) is stale and does not block a new start.
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
CREATE INDEX IF NOT EXISTS jobs_running ON jobs (is_running, job_name);
CREATE TABLE IF NOT EXISTS job_settings (
    job_id INTEGER NOT NULL,
    setting TEXT NOT NULL,
    value TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (job_id, setting)
);
"""


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


def registry_path() -> Path:
    return paths.storage_dir() / "jobs.sqlite"


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


class RunningJobs:
    """The jobs running on this unit (SQLite, one file per unit): pid, job, experiment, source and
    their last settings. Not the jobs that can run: see ``registries.targets.JobDefinitions``."""

    def __init__(self, path: Path | None = None) -> None:
        self.conn: sqlite3.Connection = connect(path or registry_path())
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> RunningJobs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _row(self, row: tuple) -> JobRecord:
        return JobRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], bool(row[8]))

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

    COLUMNS = "job_id, unit, experiment, job_name, job_source, pid, started_at, ended_at, is_running, pid_start_ticks"

    def register(self, *, unit: str, experiment: str, job_name: str, job_source: str, pid: int) -> int:
        """Record a starting job; refuse if the same job already runs on this unit."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            rows = self.conn.execute(
                f"SELECT {self.COLUMNS} FROM jobs WHERE is_running = 1 AND job_name = ? AND unit = ?",
                (job_name, unit),
            ).fetchall()
            running = [r for r in self._alive_or_retire(rows) if r.pid != pid]
            if running:
                other = running[0]
                raise JobAlreadyRunningError(
                    f"{job_name} is already running on {unit} (pid {other.pid}, experiment "
                    f"{other.experiment!r}, started {other.started_at}). "
                    f"Stop it first with: pio kill --job-name {job_name}"
                )
            cursor = self.conn.execute(
                "INSERT INTO jobs (unit, experiment, job_name, job_source, pid, pid_start_ticks, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (unit, experiment, job_name, job_source, pid, process_start_ticks(pid), now_utc()),
            )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        assert cursor.lastrowid is not None
        return cursor.lastrowid

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
    ) -> list[JobRecord]:
        """Jobs whose process is alive, optionally filtered; stale rows are retired on the way."""
        query = f"SELECT {self.COLUMNS} FROM jobs WHERE is_running = 1"
        args: list[str] = []
        for column, value in (("job_name", job_name), ("experiment", experiment), ("job_source", job_source)):
            if value is not None:
                query += f" AND {column} = ?"
                args.append(value)
        rows = self.conn.execute(query + " ORDER BY job_id", args).fetchall()
        return self._alive_or_retire(rows)

    def history(self, limit: int = 50) -> list[JobRecord]:
        self.running()  # retire stale rows first, so the history tells the truth
        rows = self.conn.execute(f"SELECT {self.COLUMNS} FROM jobs ORDER BY job_id DESC LIMIT ?", (limit,))
        return [self._row(row) for row in rows.fetchall()]

"""This unit's files, state and running jobs, for plugins that manage the unit (installers,
compatibility layers, supervisors).

    from pioreactor.sdk.unit import running_jobs, pio_home
    if running_jobs("relay"):
        ...
"""

from __future__ import annotations

from pioreactor.kernel.identity import get_leader_hostname, is_active
from pioreactor.kernel.job_registry import JobRecord, RunningJobs, is_process_alive
from pioreactor.kernel.paths import (
    global_config_path,
    pio_home,
    plugins_dir,
    storage_dir,
    unit_config_path,
)

__all__ = [
    "JobRecord",
    "get_leader_hostname",
    "global_config_path",
    "is_active",
    "is_process_alive",
    "job_settings",
    "pio_home",
    "plugins_dir",
    "running_jobs",
    "storage_dir",
    "unit_config_path",
]


def running_jobs(job_name: str | None = None, *, experiment: str | None = None) -> list[JobRecord]:
    """Jobs of this unit whose process is alive (all of them, or those named ``job_name``)."""
    with RunningJobs() as registry:
        return registry.running(job_name=job_name, experiment=experiment)


def job_settings(job_id: int) -> dict[str, str | None]:
    """The last value each setting of a job published (as text), from the job registry."""
    with RunningJobs() as registry:
        return registry.settings(job_id)

"""This unit: its files, its identity, the jobs running on it and its config files, for
plugins that manage the unit (the web server, installers, compatibility layers, supervisors).

    from pioreactor.sdk.unit import running_jobs
    [job["job_name"] for job in running_jobs()]
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from pioreactor.kernel.identity import get_leader_hostname, is_active
from pioreactor.kernel.job_registry import JobRecord, is_process_alive
from pioreactor.kernel.paths import (
    global_config_path,
    pio_home,
    plugins_dir,
    storage_dir,
    unit_config_path,
)

__all__ = [
    "JobRecord",
    "check_config_text",
    "config_file_path",
    "get_leader_hostname",
    "global_config_path",
    "is_active",
    "is_process_alive",
    "job_history",
    "merged_config",
    "pio_home",
    "plugins_dir",
    "running_jobs",
    "storage_dir",
    "unit_config_path",
]


def _record(record: Any, settings: dict[str, Any] | None) -> dict[str, Any]:
    row = asdict(record)
    if settings is not None:
        row["settings"] = settings
    return row


def running_jobs(
    *,
    job_name: str | None = None,
    experiment: str | None = None,
    job_source: str | None = None,
    with_settings: bool = False,
) -> list[dict[str, Any]]:
    """Jobs alive on this unit (``job_id``, ``job_name``, ``experiment``, ``job_source``, ``pid``,
    ``started_at``...), oldest first; ``with_settings`` adds each job's last published settings."""
    from pioreactor.kernel.job_registry import RunningJobs

    with RunningJobs() as registry:
        records = registry.running(job_name=job_name, experiment=experiment, job_source=job_source)
        return [_record(r, registry.settings(r.job_id) if with_settings else None) for r in records]


def job_history(limit: int = 50, *, with_settings: bool = False) -> list[dict[str, Any]]:
    """Jobs of this unit, running or ended, newest first."""
    from pioreactor.kernel.job_registry import RunningJobs

    with RunningJobs() as registry:
        records = registry.history(limit)
        return [_record(r, registry.settings(r.job_id) if with_settings else None) for r in records]


def config_file_path(which: str) -> Path:
    """``shared`` is config.ini (the cluster's), ``specific`` is unit_config.ini (this unit's)."""
    if which == "shared":
        return global_config_path()
    if which == "specific":
        return unit_config_path()
    raise ValueError(f"config file {which!r}: use 'shared' or 'specific'")


def check_config_text(text: str, which: str) -> list[str]:
    """Problems of ``text`` as the new ``which`` config file (parse errors first, then values of
    the wrong type for keys that plugins declare); empty when it is safe to save."""
    import tempfile

    from pioreactor.kernel.config import Config
    from pioreactor.kernel.config_defaults import declare_kernel_defaults
    from pioreactor.kernel.errors import ConfigError
    from pioreactor.kernel.plugins import get_plugin_host

    with tempfile.TemporaryDirectory() as folder:
        candidate = Path(folder) / config_file_path(which).name
        candidate.write_text(text, encoding="utf-8")
        config = Config()
        declare_kernel_defaults(config)
        get_plugin_host().apply_config_defaults(config)
        try:
            for kind in ("shared", "specific"):
                config.add_file(candidate if kind == which else config_file_path(kind))
        except ConfigError as err:
            return [str(err).replace(str(candidate), config_file_path(which).name)]
        return [str(problem).replace(str(candidate), config_file_path(which).name) for problem in config.validate()]


def merged_config() -> dict[str, dict[str, str]]:
    """This unit's configuration read afresh from its files over the plugins' defaults, as
    ``{section: {key: value}}`` (values are text, as in the files)."""
    from pioreactor.kernel.config import load_config
    from pioreactor.kernel.plugins import get_plugin_host

    config = load_config()
    get_plugin_host().apply_config_defaults(config)
    return {section: config.section(section) for section in config.sections()}

"""Who this unit is: its name, whether it leads the cluster, its experiment, whether it is active."""

from __future__ import annotations

import os
import socket

from pioreactor.kernel.config import get_config
from pioreactor.kernel.storage import local_persistent_storage

UNIVERSAL_UNIT = "$broadcast"  # a topic's unit segment meaning "every unit"
UNIVERSAL_EXPERIMENT = "$experiment"  # a topic's experiment segment for machine-level jobs
DEFAULT_EXPERIMENT = "default"


def get_unit_name() -> str:
    """``$PIO_UNIT``, else the hostname."""
    return os.environ.get("PIO_UNIT") or socket.gethostname()


def get_leader_hostname() -> str:
    config = get_config()
    leader = config.get("cluster", "leader_hostname", fallback="") or config.get(
        "cluster.topology", "leader_hostname", fallback=""
    )
    return leader or get_unit_name()


def am_i_leader() -> bool:
    return get_leader_hostname() == get_unit_name()


def get_assigned_experiment() -> str:
    """``$EXPERIMENT``, else the experiment this unit was assigned to, else ``default``."""
    from_env = os.environ.get("EXPERIMENT")
    if from_env:
        return from_env
    with local_persistent_storage("identity") as store:
        return str(store.get("assigned_experiment") or DEFAULT_EXPERIMENT)


def assign_experiment(experiment: str) -> None:
    with local_persistent_storage("identity") as store:
        store["assigned_experiment"] = experiment


def is_active() -> bool:
    """``$ACTIVE`` (1 or 0), else what the leader last set, else active."""
    from_env = os.environ.get("ACTIVE")
    if from_env is not None:
        return from_env.strip() == "1"
    with local_persistent_storage("identity") as store:
        return bool(store.get("is_active", True))


def set_active(active: bool) -> None:
    with local_persistent_storage("identity") as store:
        store["is_active"] = active


def job_source() -> str:
    """Who started this process: ``$JOB_SOURCE`` (e.g. ``experiment_profile``), else ``user``."""
    return os.environ.get("JOB_SOURCE") or "user"

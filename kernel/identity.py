"""Who this unit is: its name, whether it leads the cluster, its experiment, whether it is active."""

from __future__ import annotations

import os
import socket

from pioreactor.kernel.config import get_config
from pioreactor.kernel.errors import InvalidNameError
from pioreactor.kernel.storage import local_persistent_storage

UNIVERSAL_UNIT = "$broadcast"  # a topic's unit segment meaning "every unit"
UNIVERSAL_EXPERIMENT = "$experiment"  # a topic's experiment segment for machine-level jobs
DEFAULT_EXPERIMENT = "default"
#: characters that would change a topic's meaning (a level separator, wildcards), and the
#: NUL that MQTT forbids
TOPIC_SPECIAL = frozenset("/+#\x00")
MAX_NAME_LENGTH = 200


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def check_name(kind: str, name: str, *, where: str = "") -> str:
    """``name`` if it can be a unit or experiment name (one MQTT topic level), else InvalidNameError
    saying which character is wrong and where the name came from."""
    origin = f" (from {where})" if where else ""
    if not name or not name.strip():
        raise InvalidNameError(f"the {kind} name{origin} is empty: give a name such as 'my-{kind}'")
    bad = sorted({c for c in name if c in TOPIC_SPECIAL or not c.isprintable()})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise InvalidNameError(
            f"the {kind} name {name!r}{origin} contains {shown}: {_article(kind)} {kind} name cannot contain '/', '+', '#' "
            "or control characters (they would change MQTT topics). Use letters, digits, '-' and '_'"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidNameError(f"the {kind} name{origin} is {len(name)} characters long; at most {MAX_NAME_LENGTH}")
    if kind == "unit" and name.startswith("$"):
        raise InvalidNameError(f"the unit name {name!r}{origin} cannot start with '$' (reserved, e.g. $broadcast)")
    return name


def check_experiment(name: str, *, where: str = "") -> str:
    """An experiment name, checked; ``$experiment`` (machine-level jobs) is allowed."""
    if name == UNIVERSAL_EXPERIMENT:
        return name
    return check_name("experiment", name, where=where)


def check_unit_name(name: str, *, where: str = "") -> str:
    """A unit name, checked (see :func:`check_name`)."""
    return check_name("unit", name, where=where)


def check_experiment_name(name: str, *, where: str = "") -> str:
    """An experiment name, checked (see :func:`check_name`); ``$experiment`` is allowed."""
    return check_experiment(name, where=where)


def get_unit_name() -> str:
    """``$PIO_UNIT``, else the hostname (checked: it is a segment of every topic)."""
    from_env = os.environ.get("PIO_UNIT")
    if from_env is not None and from_env != "":
        return check_name("unit", from_env, where="$PIO_UNIT")
    return check_name("unit", socket.gethostname(), where="the hostname")


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
        return check_experiment(from_env, where="$EXPERIMENT")
    with local_persistent_storage("identity") as store:
        stored = str(store.get("assigned_experiment") or DEFAULT_EXPERIMENT)
    return check_experiment(stored, where="this unit's assigned experiment")


def assign_experiment(experiment: str) -> None:
    check_experiment(experiment)
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

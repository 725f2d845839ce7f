"""Experiment assignment without an HTTP round trip per job start (upstream #459).

The leader publishes each unit's assignment retained on
``pioreactor/<unit>/$experiment/cluster/assignment`` (``{"experiment": "yeast1" | null,
"leader": "<leader>"}``). On each worker ``pio run cluster_follower`` (long-running) keeps the
last one in the unit's local storage, where ``pio run`` reads its experiment; a message from any
other leader than ``[cluster] leader_hostname`` is refused (upstream #344). When the broker (on
the leader) is unreachable, the follower warns that jobs use the last known assignment.
"""

from __future__ import annotations

import json
from typing import Any

from pioreactor.sdk import UNIVERSAL_EXPERIMENT

TOPIC = "pioreactor/{unit}/" + UNIVERSAL_EXPERIMENT + "/cluster/assignment"


def topic(unit: str) -> str:
    return TOPIC.format(unit=unit)


def publish_assignment(unit: str, experiment: str | None, *, timeout: float = 2.0) -> None:
    """On the leader: tell ``unit`` (retained) which experiment it works for (None: none)."""
    from pioreactor.sdk import get_bus, get_leader_hostname

    payload = json.dumps({"experiment": experiment, "leader": get_leader_hostname()})
    info = get_bus().publish(topic(unit), payload, qos=1, retain=True)
    if info is not None:
        info.wait_for_publish(timeout)


def clear_assignment(unit: str, *, timeout: float = 2.0) -> None:
    """On the leader: ``unit`` left the cluster; its retained assignment goes."""
    from pioreactor.sdk import get_bus

    info = get_bus().publish(topic(unit), b"", qos=1, retain=True)
    if info is not None:
        info.wait_for_publish(timeout)


def accept(payload: bytes, my_leader: str) -> tuple[str | None, str | None]:
    """(experiment, None) for an assignment from ``my_leader``; (None, why) for one to refuse.
    An experiment of ``None`` in the first form means "unassigned"."""
    try:
        body: Any = json.loads(payload)
    except ValueError:
        return None, f"not JSON: {payload[:80]!r}"
    if not isinstance(body, dict) or "leader" not in body:
        return None, f"not an assignment: {body!r}"
    if body["leader"] != my_leader:
        return None, f"it comes from {body['leader']!r}, but this unit's leader is {my_leader!r} ([cluster] leader_hostname)"
    experiment = body.get("experiment")
    return (str(experiment) if experiment else None), None

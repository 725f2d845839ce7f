"""``pio run cluster_follower``: on a worker, keeps the leader's assignment for this unit in local
storage (see ``assignment.py``), so that ``pio run`` never asks the leader over HTTP."""

from __future__ import annotations

from typing import Any

from pioreactor.plugins_core.cluster.assignment import accept, topic
from pioreactor.sdk import (
    DEFAULT_EXPERIMENT,
    UNIVERSAL_EXPERIMENT,
    BackgroundJob,
    Message,
    assign_experiment,
    get_assigned_experiment,
    get_leader_hostname,
)


class ClusterFollower(BackgroundJob):
    """Follow the leader's assignment of this unit; refuse any other leader's."""

    job_name = "cluster_follower"
    long_running = True
    published_settings = {"assigned_experiment": {"datatype": "string", "settable": False}}

    def __init__(self, unit: str, experiment: str) -> None:
        super().__init__(unit, UNIVERSAL_EXPERIMENT)
        self.leader = get_leader_hostname()
        self.assigned_experiment = ""
        self.bus.subscribe(topic(unit), self._on_assignment, qos=1)
        self.bus.on_reconnect(lambda: self.logger.info(f"The leader ({self.leader}) is reachable again."))
        previous = self.bus.client.on_disconnect

        def on_broker_lost(*args: Any) -> None:
            previous(*args)
            if self.state != "disconnected":
                self.logger.warning(
                    f"The leader ({self.leader}) is unreachable; jobs use the last known assignment: "
                    f"{get_assigned_experiment()}."
                )

        # the broker runs on the leader: losing it is losing the leader
        self.bus.client.on_disconnect = on_broker_lost

    def _on_assignment(self, message: Message) -> None:
        if not message.payload:  # the leader removed this unit
            assign_experiment(DEFAULT_EXPERIMENT)
            self.assigned_experiment = DEFAULT_EXPERIMENT
            return
        experiment, refused = accept(message.payload, self.leader)
        if refused is not None:
            self.logger.warning(f"Refused an assignment: {refused}.")
            return
        new = experiment or DEFAULT_EXPERIMENT
        if new != self.assigned_experiment:
            assign_experiment(new)
            self.logger.info(f"Assigned to experiment {new} by {self.leader}.")
        self.assigned_experiment = new

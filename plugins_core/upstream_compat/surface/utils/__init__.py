"""``pioreactor.utils``: upstream's helpers (``clamp``, the local storages, ``managed_lifecycle``...)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pioreactor import sdk, whoami
from pioreactor.sdk import local_intermittent_storage, local_persistent_storage

__all__ = [
    "clamp",
    "is_pio_job_running",
    "local_intermittent_storage",
    "local_persistent_storage",
    "managed_lifecycle",
    "whoami",
]


def clamp(minimum: float, x: float, maximum: float) -> float:
    """``x`` limited to ``[minimum, maximum]`` (upstream's argument order)."""
    return max(minimum, min(x, maximum))


def is_pio_job_running(*job_names: str) -> Any:
    """True if the job runs on this unit; with several names, a list of booleans."""
    from pioreactor.sdk.unit import running_jobs

    running = {job["job_name"] for job in running_jobs()}
    results = [name in running for name in job_names]
    return results[0] if len(results) == 1 else results


class ManagedLifecycle:
    """What ``managed_lifecycle`` yields: a job's topics and state, without a class."""

    def __init__(self, job: Any) -> None:
        self._job = job
        self.unit = job.unit
        self.experiment = job.experiment
        self.name = job.job_name
        self.mqtt_client = job.pub_client
        self.exit_event: threading.Event = job._disconnected_event
        self.logger = job.logger

    @property
    def state(self) -> str:
        return str(self._job.state)

    def publish_setting(self, setting: str, value: Any) -> None:
        self.mqtt_client.publish(f"{self._job.topic_prefix}/{setting}", value, retain=True, qos=1)

    def block_until_disconnected(self) -> None:
        self._job.block_until_disconnected()


@contextmanager
def managed_lifecycle(
    unit: str,
    experiment: str,
    name: str,
    mqtt_client: Any = None,
    exit_on_mqtt_disconnect: bool = False,
    mqtt_client_kwargs: dict[str, Any] | None = None,
    ignore_is_active_state: bool = False,
    source: str = "app",
    **_: Any,
) -> Iterator[ManagedLifecycle]:
    """Run a block as job ``name``: ``$state`` ready, registered, stoppable over MQTT, and
    ``disconnected`` when the block ends (however it ends)."""
    from pioreactor.background_jobs.base import BackgroundJob

    job_class = type(f"Managed_{name}", (BackgroundJob,), {"job_name": name})
    job = job_class(unit, experiment, source=source)
    try:
        yield ManagedLifecycle(job)
    finally:
        job.clean_up(reason="block ended")


def get_cpu_temperature() -> float:
    try:
        with open("/sys/class/thermal/thermal_zone0/temp") as f:
            return int(f.read().strip()) / 1000.0
    except OSError:
        return 0.0


def boolean_retry(function: Any, f_args: Any = (), f_kwargs: Any = None, retries: int = 3, sleep_for: float = 0.25) -> bool:
    for _ in range(retries):
        if function(*f_args, **(f_kwargs or {})):
            return True
        sdk.get_clock().sleep(sleep_for)
    return False

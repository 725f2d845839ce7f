"""Live values for expressions (``unit:job:setting``), read from retained MQTT topics.

One MQTT client serves the whole run (the run's own). The first read of a topic subscribes to
it and waits (``timeout`` real seconds) for its retained value; the subscription stays, so
later reads answer at once with the latest value, and a value that never came fails fast.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from pioreactor.plugins_core.profiles.evaluate import ExpressionError, convert_text

DEFAULT_TIMEOUT_SECONDS = 3.0


class LiveValues:
    def __init__(self, bus: Any, experiment: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.bus = bus
        self.experiment = experiment
        self.timeout = timeout
        self._lock = threading.Lock()
        self._values: dict[str, bytes] = {}
        self._arrived: dict[str, threading.Event] = {}

    def topic(self, unit: str, job: str, setting: str) -> str:
        return f"pioreactor/{unit}/{self.experiment}/{job}/{setting}"

    def read(self, unit: str, job: str, setting: str) -> Any:
        topic = self.topic(unit, job, setting)
        with self._lock:
            arrived = self._arrived.get(topic)
            first = arrived is None
            if arrived is None:
                arrived = self._arrived[topic] = threading.Event()
        if first:
            self.bus.subscribe(topic, self._remember, qos=1)
            arrived.wait(self.timeout)
        payload = self._values.get(topic)
        if not payload:
            raise ExpressionError(
                f"{unit}:{job}:{setting} has no value: nothing is published on {topic} "
                f"(is {job} running on {unit} in experiment {self.experiment}?)"
            )
        return decode(payload)

    def _remember(self, message: Any) -> None:
        with self._lock:
            self._values[message.topic] = message.payload
            event = self._arrived.get(message.topic)
        if event is not None:
            event.set()


def decode(payload: bytes) -> Any:
    """JSON when the payload is JSON (a struct, a number), else text read as upstream does."""
    text = payload.decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except ValueError:
        return convert_text(text)
    return convert_text(value) if isinstance(value, str) else value

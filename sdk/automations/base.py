"""``AutomationJob``: a job that runs a strategy (``execute()``) and publishes what it did.

Each kind (temperature, LED, dosing) has its own base with the plumbing of that kind (heater,
LEDs, pumps); a concrete automation subclasses the kind's base, sets ``automation_name`` and
implements ``execute()``, returning an event (or None).
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any, ClassVar

from pioreactor.kernel.job import BackgroundJob
from pioreactor.kernel.timers import RepeatedTimer
from pioreactor.sdk.structs import AutomationEvent, AutomationSettings, ErrorOccurred, NoEvent, encode


class AutomationJob(BackgroundJob):
    """Base of every automation. Runs ``execute()`` on demand (``run()``) or every ``duration`` minutes."""

    #: ``temperature``, ``led`` or ``dosing``; the job is called ``<kind>_automation``
    automation_kind: ClassVar[str] = ""
    #: the name users pass to ``--automation-name``
    automation_name: ClassVar[str] = ""
    published_settings = {
        "automation_name": {"datatype": "string", "settable": False},
        "latest_event": {"datatype": AutomationEvent, "settable": False},
    }
    #: settable settings that are state, not settings, and so stay out of ``<kind>_automation_settings``
    settings_not_recorded: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, unit: str, experiment: str, **kwargs: Any) -> None:
        if not type(self).automation_name:
            raise ValueError(f"{type(self).__name__}.automation_name must be set")
        super().__init__(unit, experiment)
        self.automation_name = type(self).automation_name  # type: ignore[misc]
        self.latest_event: AutomationEvent | None = None
        self._run_lock = threading.Lock()
        self._periodic: RepeatedTimer | None = None
        self._settings_started_at: datetime | None = None
        if kwargs:
            raise TypeError(f"unknown options for {self.automation_name}: {', '.join(sorted(kwargs))}")

    def execute(self) -> AutomationEvent | None:
        """Decide and act once. Return an event describing what was done (or None)."""
        raise NotImplementedError

    def run(self) -> AutomationEvent | None:
        """Run ``execute()`` once if the job is ready and not already running it; publish what it
        returned as ``latest_event`` (``ErrorOccurred`` if it raised, after logging the error)."""
        if self.state != self.READY or not self._run_lock.acquire(blocking=False):
            return None
        try:
            event = self.execute() or NoEvent()
        except Exception as err:
            self.logger.exception("%s failed: %s", self.automation_name, err)
            self.latest_event = ErrorOccurred(message=f"{type(err).__name__}: {err}")
            return self.latest_event
        finally:
            self._run_lock.release()
        self.latest_event = event
        if not isinstance(event, NoEvent):
            self.logger.info(str(event))
        return event

    def run_every(self, minutes: float, *, skip_first_run: bool = False) -> None:
        """Call ``run()`` every ``minutes`` (on the kernel clock), starting now unless skipped."""
        if minutes <= 0:
            raise ValueError(f"duration must be positive (minutes), got {minutes}")
        if self._periodic is not None:
            self._periodic.cancel()
        self._periodic = RepeatedTimer(
            minutes * 60.0, self.run, run_immediately=not skip_first_run, name=f"{self.automation_name}-runs"
        ).start()

    # -- the settings history (upstream's <kind>_automation_settings) ---------------------------
    def recorded_settings(self) -> dict[str, Any]:
        """The settings a user controls, as recorded in ``<kind>_automation_settings``."""
        names = [
            name
            for name, spec in self.all_published_settings().items()
            if spec["settable"] and name not in self.settings_not_recorded
        ]
        return {name: _plain(self.__dict__.get(name)) for name in sorted(names)}

    def publish_automation_settings(self, *, ended: bool = False) -> None:
        if self._settings_started_at is None:
            return
        message = AutomationSettings(
            pioreactor_unit=self.unit,
            experiment=self.experiment,
            started_at=self._settings_started_at,
            ended_at=self.clock.utc_now() if ended else None,
            automation_name=self.automation_name,
            settings=json.dumps(self.recorded_settings()).encode(),
        )
        topic = f"{self.topic_prefix}/{self.automation_kind}_automation_settings"
        self.bus.publish(topic, encode(message), qos=2)

    def _publish_setting(self, name: str, value: Any) -> None:
        super()._publish_setting(name, value)
        if (
            self.__dict__.get("_settings_started_at") is not None
            and self.state != self.DISCONNECTED
            and name in self._settings
            and self._settings[name]["settable"]
            and name != "state"
            and name not in self.settings_not_recorded
        ):
            self.publish_automation_settings()

    def _become_ready(self) -> None:
        super()._become_ready()
        if self._settings_started_at is None and self.state == self.READY:
            self._settings_started_at = self.clock.utc_now()
            self.publish_automation_settings()

    def on_disconnected(self) -> None:
        if self._periodic is not None:
            self._periodic.cancel()
        self.publish_automation_settings(ended=True)


def _plain(value: Any) -> Any:
    """A setting's value as JSON can hold it."""
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


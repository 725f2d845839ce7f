"""Upstream's dodging jobs: an actuator (air bubbler, relay) that pauses while OD is read.

With ``enable_dodging_od`` on and od_reading running, ``action_to_do_before_od_reading()`` is
called ``pre_delay_duration`` seconds before each reading and ``action_to_do_after_od_reading()``
``post_delay_duration`` seconds after it (the SDK's ``ODDodger`` does the timing, on the
kernel clock); otherwise the job runs continuously. ``initialize_dodging_operation()`` and
``initialize_continuous_operation()`` are called on each switch. The timings come from
``[<job_name>.config]``.
"""

from __future__ import annotations

import threading
from typing import Any

from pioreactor import sdk
from pioreactor.background_jobs.base import BackgroundJob
from pioreactor.plugins_core.od_reading.api import ODDodger

FIRST_STATE_WAIT_SECONDS = 1.0  # how long to wait for od_reading's retained $state at start
READING_SECONDS = 0.5


class BackgroundJobWithDodging(BackgroundJob):
    """``__init__(unit, experiment, source="app", enable_dodging_od=None)``; None reads config."""

    published_settings = {
        "enable_dodging_od": {"datatype": "boolean", "settable": True},
        "currently_dodging_od": {"datatype": "boolean", "settable": False},
    }

    def __init__(
        self, unit: str, experiment: str, source: str = "app", enable_dodging_od: bool | None = None, **kwargs: Any
    ) -> None:
        super().__init__(unit, experiment, source=source)
        section = f"{self.job_name}.config"
        config = sdk.get_config()
        if enable_dodging_od is None:
            enable_dodging_od = config.getboolean(section, "enable_dodging_od", fallback=True)
        self._pre = config.getfloat(section, "pre_delay_duration", fallback=1.5)
        self._post = config.getfloat(section, "post_delay_duration", fallback=0.5)
        self._mode_lock = threading.RLock()
        self._od_running = False
        self._od_state_seen = threading.Event()
        self._dodging_mode: bool | None = None  # None: not decided yet
        self._stopping = False
        self._dodger = ODDodger(
            self,
            before=self._before_reading,
            after=self._after_reading,
            pre_seconds=self._pre,
            reading_seconds=READING_SECONDS,
            post_seconds=self._post,
        )
        self.currently_dodging_od = False
        self.enable_dodging_od = bool(enable_dodging_od)

    # -- upstream's hooks (subclasses override) ------------------------------------------------
    def action_to_do_before_od_reading(self) -> None:
        pass

    def action_to_do_after_od_reading(self) -> None:
        pass

    def initialize_dodging_operation(self) -> None:
        pass

    def initialize_continuous_operation(self) -> None:
        pass

    # -- switching -------------------------------------------------------------------------------
    def set_enable_dodging_od(self, value: bool) -> None:
        self.enable_dodging_od = bool(value)
        if self._dodging_mode is not None:
            self._decide()

    def _become_ready(self) -> None:
        super()._become_ready()
        if self._cleaned:
            return
        self.bus.subscribe(
            f"pioreactor/{self.unit}/{self.experiment}/od_reading/$state", self._on_od_state, qos=1
        )

        def first_decision() -> None:
            # od_reading's retained $state usually arrives at once; without one, OD is not running
            self._od_state_seen.wait(FIRST_STATE_WAIT_SECONDS)
            self._decide()

        # not in the constructor's thread: the plugin's own code after construction must not wait
        threading.Thread(target=first_decision, name="dodging-start", daemon=True).start()

    def _on_od_state(self, message: Any) -> None:
        self._od_running = message.text().strip() in ("ready", "init")
        first = not self._od_state_seen.is_set()
        self._od_state_seen.set()
        if not first or self._dodging_mode is not None:
            self._decide()

    def _decide(self) -> None:
        with self._mode_lock:
            if self._stopping or self.state == self.DISCONNECTED:
                return
            dodge = bool(self.enable_dodging_od and self._od_running)
            if dodge == self._dodging_mode:
                return
            self._dodging_mode = dodge
            if dodge:
                self.logger.debug("Dodging OD readings.")
                self.initialize_dodging_operation()
                self._dodger.enable()
            else:
                self._dodger.disable()
                self.currently_dodging_od = False
                self.logger.debug("Running continuously.")
                self.initialize_continuous_operation()

    def _before_reading(self) -> None:
        if self._stopping or self.state != self.READY:
            return
        self.currently_dodging_od = True
        self.action_to_do_before_od_reading()

    def _after_reading(self) -> None:
        if not self.currently_dodging_od:
            return
        self.currently_dodging_od = False
        if self._stopping or self.state != self.READY:
            return
        self.action_to_do_after_od_reading()

    def clean_up(self, reason: str = "") -> None:
        # stop the timing first, so no "after reading" switches the actuator back on while stopping
        self._stopping = True
        dodger = self.__dict__.get("_dodger")
        if dodger is not None:
            dodger.disable()
        super().clean_up(reason=reason)


class BackgroundJobWithDodgingContrib(BackgroundJobWithDodging):
    """A plugin's dodging job: ``__init__(unit, experiment, plugin_name, enable_dodging_od=None)``."""

    def __init__(
        self, unit: str, experiment: str, plugin_name: str, enable_dodging_od: bool | None = None, **kwargs: Any
    ) -> None:
        super().__init__(unit, experiment, source=plugin_name, enable_dodging_od=enable_dodging_od)
        self.plugin_name = plugin_name

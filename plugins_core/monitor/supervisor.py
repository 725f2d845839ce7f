"""Switches off what a job left on when it died without its clean-up (``kill -9``, a crash), and
what was left on before this boot. Outputs of a live job are never touched.

The record of which job holds which output is the kernel's (``pioreactor.sdk.hardware``); this
looks at it every ``sweep_every_seconds`` and at once when a job's ``$state`` turns ``lost``.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from pioreactor.sdk.hardware import OutputRecord, orphaned_outputs, switch_off_orphan


def describe(record: OutputRecord) -> str:
    return f"{record.label} at {record.value:g}%"


class Supervisor:
    def __init__(self, logger: Any, every_seconds: float) -> None:
        self.logger = logger
        self.every_seconds = every_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._failing: set[str] = set()  # outputs whose switch-off failed (logged once each)
        self._sweep_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="monitor-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        """Look now (a job was reported lost)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5.0)

    def _run(self) -> None:
        failing = ""
        while not self._stop.is_set():
            try:
                self.sweep()
                if failing:
                    self.logger.info("Looking for outputs left on works again.")
                failing = ""
            except Exception as err:
                if str(err) != failing:  # once per kind of failure, not twice a second
                    self.logger.error("Cannot look for outputs that dead jobs left on: %s", err)
                failing = str(err)
            self._wake.wait(self.every_seconds)  # wall-clock: a dead job's pump must stop in seconds
            self._wake.clear()

    def sweep(self) -> list[OutputRecord]:
        """Switch off every orphaned output now; returns those switched off."""
        with self._sweep_lock:
            switched: list[OutputRecord] = []
            for record in orphaned_outputs():
                try:
                    if switch_off_orphan(record):
                        switched.append(record)
                        self._failing.discard(record.output)
                except Exception as err:
                    if record.output not in self._failing:
                        self._failing.add(record.output)
                        self.logger.error("Could not switch off %s: %s", describe(record), err)
            if switched:
                self._sync_leds(switched)
                self._report(switched)
            return switched

    def _sync_leds(self, switched: list[OutputRecord]) -> None:
        """The LED state other jobs read (and ``leds/intensity``) says off too."""
        by_experiment: dict[str | None, dict[str, float]] = defaultdict(dict)
        for record in switched:
            if record.kind == "led":
                by_experiment[record.experiment][record.channel] = 0.0
        if not by_experiment:
            return
        from pioreactor.plugins_core.leds.api import set_intensities

        for experiment, channels in by_experiment.items():
            try:
                set_intensities(channels, source_of_event="monitor", experiment=experiment)
            except Exception as err:
                self.logger.debug("Could not record the LEDs as off: %s", err)

    def _report(self, switched: list[OutputRecord]) -> None:
        by_holder: dict[tuple[str, int | None, int | None, bool], list[OutputRecord]] = defaultdict(list)
        for record in switched:
            holder = record.holder
            earlier_boot = holder is None or not record.is_from_this_boot()
            key = (holder.job_name if holder else "", holder.pid if holder else None, holder.job_id if holder else None, earlier_boot)
            by_holder[key].append(record)
        for (job_name, pid, _, earlier_boot), records in by_holder.items():
            what = ", ".join(describe(r) for r in records)
            if earlier_boot:
                source = f" by {job_name}" if job_name else ""
                self.logger.warning("Switched off what was left on%s before this boot: %s.", source, what)
            else:
                self.logger.warning(
                    "%s (pid %s) ended without its clean-up: switched off what it left on: %s.", job_name, pid, what
                )

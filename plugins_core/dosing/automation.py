"""``DosingAutomationJob``: the base of dosing automations (``pio run dosing_automation``).

A dosing automation decides in ``execute()`` (every ``duration`` minutes) and doses with
``execute_io_action(media_ml=..., alt_media_ml=..., waste_ml=...)``, which:

* splits the doses into sub-doses of at most ``max_subdose`` ml, media and alt-media in the
  same ratio in each, and removes waste after each (its volume, then ``waste_removal_multiplier``
  times more, which the efflux tube turns into "down to the tube");
* pauses ``pause_between_subdoses_seconds`` after adding, so the liquid mixes;
* keeps the liquid volume, the alt-media fraction and the throughputs (published, and kept per
  experiment), from its own doses and from every other dosing event of the unit (a dose by hand
  with ``--manually``, ``pio run add_media``...);
* never adds liquid that would take the volume to ``max_volume_to_stop``: it logs an error and
  sleeps instead (and warns from 90 % of it). A waste dose that fails, is vetoed or is cut short
  counts only for what was pumped, so a broken waste pump stops the dosing, it does not overfill.

Sensor data come from MQTT: ``latest_normalized_od`` (growth_rate_calculating's
``od_filtered``), ``latest_growth_rate`` and ``latest_od`` (od_reading's ``ods``, by channel).
Each raises :class:`JobRequiredError` when there is none or it is more than 5 minutes old; the
run then ends with an ``ErrorOccurred`` event and a warning, not a traceback.

Config: ``[dosing_automation.config]`` (sub-dosing and safety) and ``[bioreactor]``
(``max_volume_ml``: where the efflux tube holds the volume; ``initial_volume_ml``;
``initial_alt_media_fraction``).
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

import msgspec
from pioreactor.plugins_core.growth_rate.api import GrowthRate, ODFiltered
from pioreactor.plugins_core.od_reading.api import ODReadings
from pioreactor.plugins_core.pumps.api import DoseResult, dose, plan_dose, pump_roles
from pioreactor.sdk import ConfigError, Message, PioreactorError, get_config, local_persistent_storage
from pioreactor.sdk.automations import AutomationJob
from pioreactor.sdk.structs import (
    AddAltMediaEvent,
    AddMediaEvent,
    AutomationEvent,
    BioreactorValue,
    DilutionEvent,
    DosingEvent,
    ErrorOccurred,
    NoEvent,
    decode,
    encode,
)

__all__ = [
    "AddAltMediaEvent",
    "AddMediaEvent",
    "DilutionEvent",
    "DosingAutomationJob",
    "ErrorOccurred",
    "JobRequiredError",
    "NoEvent",
]

SECTION = "dosing_automation.config"
BIOREACTOR = "bioreactor"
#: upstream's defaults (also the fallbacks when a process lacks the dosing plugin's defaults)
CONFIG_DEFAULTS: dict[str, float] = {
    "pause_between_subdoses_seconds": 5.0,
    "waste_removal_multiplier": 2.0,
    "max_volume_to_stop": 18.0,
    "max_subdose": 1.0,
}
BIOREACTOR_DEFAULTS: dict[str, float] = {
    "max_volume_ml": 14.0,
    "initial_volume_ml": 14.0,
    "initial_alt_media_fraction": 0.0,
}
WARN_FRACTION = 0.9
STALE_AFTER_SECONDS = 300.0  # clock seconds
FIRST_VALUE_PATIENCE_SECONDS = 2.0  # wall-clock seconds to wait for a retained value at start
HISTORY = 50
TRACKED = ("current_volume_ml", "alt_media_fraction", "media_throughput", "alt_media_throughput")
#: this job's values under upstream's ``bioreactor/<variable>`` names
BIOREACTOR_VARIABLES = {
    "current_volume_ml": "current_volume_ml",
    "alt_media_fraction": "alt_media_fraction",
    "media_throughput": "cumulative_media_added_ml",
    "alt_media_throughput": "cumulative_alt_media_added_ml",
    "max_working_volume_ml": "max_working_volume_ml",
}


class JobRequiredError(PioreactorError):
    """The automation needs data that no job publishes (or that is too old)."""


def _timestamp(value: datetime) -> float:
    return value.timestamp()


class _Signal:
    """The latest value of one MQTT topic, and a short history of (time, value)."""

    def __init__(self, name: str, job: str) -> None:
        self.name, self.job = name, job
        self._history: deque[tuple[float, Any]] = deque(maxlen=HISTORY)
        self._lock = threading.Lock()
        self.seen = threading.Event()
        self.created = time.monotonic()

    @property
    def history(self) -> list[tuple[float, Any]]:
        with self._lock:
            return list(self._history)

    def add(self, at: float, value: Any) -> None:
        with self._lock:
            if self._history and at <= self._history[-1][0]:
                return  # a retained copy, or out of order
            self._history.append((at, value))
        self.seen.set()

    def latest(self, now: float) -> Any:
        if not self.seen.is_set():  # just started: a retained value may be on its way
            self.seen.wait(max(0.0, self.created + FIRST_VALUE_PATIENCE_SECONDS - time.monotonic()))
        history = self.history
        if not history:
            raise JobRequiredError(f"no {self.name} yet: is {self.job} running? (`pio run {self.job}`)")
        at, value = history[-1]
        if now - at > STALE_AFTER_SECONDS:
            raise JobRequiredError(
                f"the latest {self.name} is {(now - at) / 60:.0f} minutes old: is {self.job} still running?"
            )
        return value


def _guarded(execute: Callable[..., AutomationEvent | None]) -> Callable[..., AutomationEvent | None]:
    """Missing sensor data ends a run with a warning and an ``ErrorOccurred`` event (no traceback)."""

    @functools.wraps(execute)
    def run_execute(self: DosingAutomationJob) -> AutomationEvent | None:
        try:
            event = execute(self)
        except JobRequiredError as err:
            log = self.logger.warning if str(err) != self._last_missing else self.logger.debug
            self._last_missing = str(err)
            log("%s", err)
            return ErrorOccurred(message=str(err))
        self._last_missing = None
        return event

    run_execute._dosing_guarded = True  # type: ignore[attr-defined]
    return run_execute


class DosingAutomationJob(AutomationJob):
    """Base of dosing automations: runs ``execute()`` every ``duration`` minutes and doses with
    ``execute_io_action()``, keeping track of the liquid in the vial.

    :param duration: Minutes between runs; 0 runs the automation once.
    :param skip_first_run: Wait one period before the first run.
    """

    automation_kind = "dosing"
    job_name = "dosing_automation"
    #: pumps this automation doses with: each needs a [PWM] channel and an active calibration to start
    required_pumps: ClassVar[tuple[str, ...]] = ()
    published_settings = {
        "duration": {"datatype": "float", "settable": True, "unit": "min"},
        "current_volume_ml": {"datatype": "float", "settable": True, "unit": "mL"},
        "alt_media_fraction": {"datatype": "float", "settable": False},
        "media_throughput": {"datatype": "float", "settable": True, "unit": "mL"},
        "alt_media_throughput": {"datatype": "float", "settable": True, "unit": "mL"},
        # where the efflux tube holds the level ([bioreactor] max_working_volume_ml); the UI reads it
        "max_working_volume_ml": {"datatype": "float", "settable": False, "unit": "mL"},
    }
    settings_not_recorded = frozenset({"current_volume_ml", "media_throughput", "alt_media_throughput"})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        execute = cls.__dict__.get("execute")
        if execute is not None and not getattr(execute, "_dosing_guarded", False):
            cls.execute = _guarded(execute)

    def __init__(
        self,
        unit: str,
        experiment: str,
        *,
        duration: float = 0.0,
        skip_first_run: bool = False,
        **kwargs: Any,
    ) -> None:
        if duration is None or not (math.isfinite(duration) and duration >= 0):
            raise ValueError(f"duration must be a non-negative number of minutes, got {duration}")
        settings = self._read_config()
        for pump in self.required_pumps:
            plan_dose(pump, ml=settings["max_subdose"])  # a channel and a calibration, or a clear refusal
        super().__init__(unit, experiment, **kwargs)
        self.settings = settings
        self.max_volume_ml = settings["max_volume_ml"]
        self.max_working_volume_ml = self.max_volume_ml
        self.max_volume_to_stop = settings["max_volume_to_stop"]
        self.source_of_event = f"{self.job_name}:{self.automation_name}"
        self._stop = threading.Event()
        self._dosing = threading.Lock()
        self._volume_lock = threading.RLock()
        self._warned_volume = False
        self._last_missing: str | None = None
        self._started = False
        self._skip_first_run = skip_first_run
        #: clock time by which the liquid this job last added had mixed in (0: none added yet);
        #: readings taken after it see the dilution
        self.mixed_at = 0.0
        self._restore_volumes(settings)
        self.duration = duration

        self._od_filtered = _Signal("normalized OD (od_filtered)", "growth_rate_calculating")
        self._growth_rate = _Signal("growth rate", "growth_rate_calculating")
        self._ods = _Signal("OD reading", "od_reading")
        prefix = f"pioreactor/{unit}/{experiment}"
        self.bus.subscribe(f"{prefix}/growth_rate_calculating/od_filtered", self._on_od_filtered, qos=1)
        self.bus.subscribe(f"{prefix}/growth_rate_calculating/growth_rate", self._on_growth_rate, qos=1)
        self.bus.subscribe(f"{prefix}/od_reading/ods", self._on_ods, qos=1)
        self.bus.subscribe(f"{prefix}/dosing_events", self._on_dosing_event, qos=2, allow_retained=False)

    # -- config ------------------------------------------------------------------------------
    @staticmethod
    def _read_config() -> dict[str, float]:
        config = get_config()
        values = {
            key: config.getfloat(SECTION, key, fallback=default) for key, default in CONFIG_DEFAULTS.items()
        }
        values |= {
            key: config.getfloat(BIOREACTOR, key, fallback=default)
            for key, default in BIOREACTOR_DEFAULTS.items()
        }
        # upstream's name wins; the older max_volume_ml counts only where a file sets it
        working = config.origin(BIOREACTOR, "max_working_volume_ml")
        legacy = config.origin(BIOREACTOR, "max_volume_ml")
        if working not in (None, "defaults") or legacy in (None, "defaults"):
            values["max_volume_ml"] = config.getfloat(
                BIOREACTOR, "max_working_volume_ml", fallback=BIOREACTOR_DEFAULTS["max_volume_ml"]
            )
        if values["max_subdose"] <= 0:
            raise ConfigError(f"[{SECTION}] max_subdose must be positive, got {values['max_subdose']:g}")
        if values["waste_removal_multiplier"] < 0 or values["pause_between_subdoses_seconds"] < 0:
            raise ConfigError(
                f"[{SECTION}] waste_removal_multiplier and pause_between_subdoses_seconds must not be negative"
            )
        if values["max_volume_to_stop"] <= values["max_volume_ml"]:
            raise ConfigError(
                f"[{SECTION}] max_volume_to_stop ({values['max_volume_to_stop']:g} ml) must be above "
                f"[{BIOREACTOR}] max_volume_ml ({values['max_volume_ml']:g} ml), the level the efflux tube holds"
            )
        if not 0 <= values["initial_alt_media_fraction"] <= 1:
            raise ConfigError(f"[{BIOREACTOR}] initial_alt_media_fraction must be between 0 and 1")
        return values

    # -- the liquid ----------------------------------------------------------------------------
    def _restore_volumes(self, settings: dict[str, float]) -> None:
        initial = {
            "current_volume_ml": settings["initial_volume_ml"],
            "alt_media_fraction": settings["initial_alt_media_fraction"],
            "media_throughput": 0.0,
            "alt_media_throughput": 0.0,
        }
        for name in TRACKED:
            with local_persistent_storage(name) as store:
                cached = store.get(self.experiment)
            value = (
                float(cached) if isinstance(cached, int | float) and math.isfinite(cached) else initial[name]
            )
            setattr(self, name, round(value, 6))

    def _save(self, **values: float) -> None:
        for name, value in values.items():
            value = round(value, 6)
            changed = self.__dict__.get(name) != value
            setattr(self, name, value)
            with local_persistent_storage(name) as store:
                store[self.experiment] = value
            if changed and self.__dict__.get("_constructed"):
                self._publish_bioreactor(name, value)

    def _publish_bioreactor(self, name: str, value: float) -> None:
        """``pioreactor/<unit>/<experiment>/bioreactor/<variable>``, retained JSON
        ``{"timestamp", "value"}`` (upstream 26.11's payload)."""
        variable = BIOREACTOR_VARIABLES.get(name)
        if variable is None:
            return
        payload = encode(BioreactorValue(timestamp=self.clock.utc_now(), value=value))
        self.bus.publish(f"pioreactor/{self.unit}/{self.experiment}/bioreactor/{variable}", payload, qos=1, retain=True)

    def on_ready(self) -> None:
        if not self._started:  # a newcomer (the UI) sees the vial's state at once
            for name in (*TRACKED, "max_working_volume_ml"):
                self._publish_bioreactor(name, float(getattr(self, name)))
        self._start_runs()

    def apply_dosing_event(self, event: str, ml: float, source_of_event: str | None = None) -> None:
        """Update the volume, alt-media fraction and throughputs for a dose of ``ml`` (event
        ``add_media``, ``add_alt_media``, ``add_<pump>``, ``remove_waste``, ``circulate_media``...)."""
        kind, _, pump = event.partition("_")
        # a negative amount corrects a dose cut short (only liquid added is counted in advance)
        if not math.isfinite(ml) or (ml < 0 and kind not in ("add", "circulate")):
            return
        with self._volume_lock:
            volume, fraction = self.current_volume_ml, self.alt_media_fraction
            media, alt = self.media_throughput, self.alt_media_throughput
            if kind in ("add", "circulate"):
                new_volume = max(volume + ml, 0.0)
                alt_added = ml if pump == "alt_media" else 0.0
                if new_volume > 0:
                    fraction = min(1.0, max(0.0, (fraction * volume + alt_added) / new_volume))
                if pump == "media":
                    media = max(media + ml, 0.0)
                elif pump == "alt_media":
                    alt = max(alt + ml, 0.0)
                # circulating, the waste pump ran all along: the level ends at the tube at most
                volume = min(new_volume, self.max_volume_ml) if kind == "circulate" else new_volume
            elif kind == "remove":
                if source_of_event == "manually":  # by hand: below the tube if need be
                    volume = max(volume - ml, 0.0)
                elif volume > self.max_volume_ml:  # the pump cannot take the level below the tube
                    volume = max(volume - ml, self.max_volume_ml)
            else:
                self.logger.debug("Ignoring dosing event %r.", event)
                return
            self._save(
                current_volume_ml=volume,
                alt_media_fraction=fraction,
                media_throughput=media,
                alt_media_throughput=alt,
            )
            self._check_volume()

    def _check_volume(self) -> None:
        warn_at = WARN_FRACTION * self.max_volume_to_stop
        if self.current_volume_ml >= warn_at and not self._warned_volume:
            self._warned_volume = True
            self.logger.warning(
                "The vial holds about %.2f ml, %d %% of max_volume_to_stop (%g ml): is the waste pump working?",
                self.current_volume_ml,
                round(100 * self.current_volume_ml / self.max_volume_to_stop),
                self.max_volume_to_stop,
            )
        elif self.current_volume_ml < warn_at:
            self._warned_volume = False

    def set_current_volume_ml(self, value: float) -> None:
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"current_volume_ml must be a non-negative number of ml, got {value:g}")
        with self._volume_lock:
            self._save(current_volume_ml=value)
            self._check_volume()

    def set_media_throughput(self, value: float) -> None:
        self._save(media_throughput=max(0.0, value))

    def set_alt_media_throughput(self, value: float) -> None:
        self._save(alt_media_throughput=max(0.0, value))

    # -- incoming messages -----------------------------------------------------------------------
    def _decode(self, message: Message, kind: type[Any]) -> Any:
        if not message.payload:
            return None
        try:
            return decode(message.payload, kind)
        except msgspec.DecodeError as err:
            self.logger.debug("Ignoring %s: %s", message.topic, err)
            return None

    def _on_od_filtered(self, message: Message) -> None:
        value = self._decode(message, ODFiltered)
        if value is not None:
            self._od_filtered.add(_timestamp(value.timestamp), value.od_filtered)

    def _on_growth_rate(self, message: Message) -> None:
        value = self._decode(message, GrowthRate)
        if value is not None:
            self._growth_rate.add(_timestamp(value.timestamp), value.growth_rate)

    def _on_ods(self, message: Message) -> None:
        value = self._decode(message, ODReadings)
        if value is not None:
            self._ods.add(_timestamp(value.timestamp), {channel: r.od for channel, r in value.ods.items()})

    def _on_dosing_event(self, message: Message) -> None:
        event = self._decode(message, DosingEvent)
        if event is None or event.source_of_event == self.source_of_event:
            return  # this job's own doses are counted as they happen
        self.apply_dosing_event(event.event, event.volume_change, event.source_of_event)

    # -- sensor data -------------------------------------------------------------------------
    @property
    def latest_normalized_od(self) -> float:
        """The latest normalized OD (growth_rate_calculating's ``od_filtered``)."""
        return float(self._od_filtered.latest(self.clock.time()))

    @property
    def latest_growth_rate(self) -> float:
        """The latest growth rate estimate, per hour."""
        return float(self._growth_rate.latest(self.clock.time()))

    @property
    def latest_od(self) -> dict[str, float]:
        """The latest OD reading by photodiode channel (``{"2": 0.53}``)."""
        return dict(self._ods.latest(self.clock.time()))

    def recent_normalized_ods(self, since: float = 0.0) -> list[tuple[float, float]]:
        """(time, nOD) of the recent normalized ODs taken after ``since`` (clock seconds), oldest first."""
        return [(at, v) for at, v in self._od_filtered.history if at > since]

    def recent_ods(self, since: float = 0.0) -> list[tuple[float, dict[str, float]]]:
        """(time, OD by channel) of the recent OD readings taken after ``since``, oldest first."""
        return [(at, v) for at, v in self._ods.history if at > since]

    # -- dosing ------------------------------------------------------------------------------
    def _pause(self, seconds: float) -> bool:
        """Wait ``seconds`` (clock); False if the job is stopping."""
        return not (seconds > 0 and self.clock.wait(self._stop, seconds)) and not self._stop.is_set()

    def _halt(self, pump: str, ml: float) -> None:
        self.logger.error(
            "Adding %.3g ml with the %s pump would take the vial to %.2f ml, at or above max_volume_to_stop "
            "(%g ml): dosing stops and %s sleeps. Check the waste pump and its tubing, then set "
            "current_volume_ml to the real volume (`pio jobs set %s current_volume_ml 14`) and resume it "
            "(`pio jobs set %s '$state' ready`).",
            ml,
            pump,
            self.current_volume_ml + ml,
            self.max_volume_to_stop,
            self.job_name,
            self.job_name,
            self.job_name,
        )
        self.set_state(self.SLEEPING)

    def _dose(self, pump: str, ml: float) -> DoseResult | None:
        """One sub-dose, counted in the volume; None if it did not run."""
        if ml <= 0 or self._stop.is_set():
            return None
        adds = pump_roles().get(pump) == "add"
        try:
            result = dose(
                pump,
                ml=ml,
                source_of_event=self.source_of_event,
                unit=self.unit,
                experiment=self.experiment,
                stop=self._stop,
                logger=self.logger,
                # liquid added counts before it is pumped (the worst case); liquid removed, once it is
                on_event=(lambda e: self.apply_dosing_event(e.event, e.volume_change)) if adds else None,
            )
        except PioreactorError as err:  # refused: no calibration, a veto, a busy pump, no broker...
            self.logger.error("%s", err)
            return None
        if not adds:
            self.apply_dosing_event(result.event, result.pumped_ml or 0.0)
        elif result.pumped_ml is not None and result.pumped_ml > result.ml:  # the pump overran
            self.apply_dosing_event(result.event, result.pumped_ml - result.ml)
        return result

    def add_to_vial(self, pump: str, ml: float) -> float:
        """Add ``ml`` with an add pump, in sub-doses of at most ``max_subdose`` with a pause after
        each, without removing anything (``execute_io_action`` removes waste too). Stops (and
        the job sleeps) before the volume would reach ``max_volume_to_stop``; returns the ml added."""
        if pump_roles().get(pump) != "add":
            raise ValueError(f"{pump!r} is not a pump that adds liquid")
        count = max(1, math.ceil(ml / self.settings["max_subdose"] - 1e-9))
        added = 0.0
        with self._dosing:
            for _ in range(count):
                part = ml / count
                if not self._may_add(pump, part):
                    break
                result = self._dose(pump, part)
                if result is not None:
                    added += result.ml  # net of the correction of a dose cut short
                if result is None or result.interrupted:
                    break
                if not self._pause(self.settings["pause_between_subdoses_seconds"]):
                    break
                self.mixed_at = self.clock.time()
        return added

    def _may_add(self, pump: str, ml: float) -> bool:
        if self.state != self.READY or self._stop.is_set():
            return False
        if self.current_volume_ml + ml >= self.max_volume_to_stop:
            self._halt(pump, ml)
            return False
        return True

    def execute_io_action(
        self, waste_ml: float = 0.0, media_ml: float = 0.0, alt_media_ml: float = 0.0, **other_pumps_ml: float
    ) -> dict[str, float]:
        """Add media, alt-media (and other pumps' ``<name>_ml``) and remove ``waste_ml``, in
        alternating sub-doses of at most ``max_subdose`` ml. ``waste_ml`` must be at least what
        is added. Returns the ml each pump actually moved, as ``{"media_ml": ..., "waste_ml": ...}``
        (waste counts only what was asked, not the extra the multiplier removes)."""
        adds: dict[str, float] = {"media": media_ml, "alt_media": alt_media_ml}
        roles = pump_roles()
        for key, value in other_pumps_ml.items():
            pump = key[:-3] if key.endswith("_ml") else ""
            if roles.get(pump) != "add":
                raise ValueError(
                    f"unknown option {key!r}: other pumps are given as <pump>_ml, for a pump that adds liquid"
                )
            adds[pump] = value
        for name, value in [*adds.items(), ("waste", waste_ml)]:
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}: doses must be non-negative numbers of ml, got {value}")
        total = sum(adds.values())
        if waste_ml < total - 1e-9:
            raise ValueError(f"waste_ml ({waste_ml:g}) must be at least the volume added ({total:g})")
        moved = {f"{pump}_ml": 0.0 for pump in adds} | {"waste_ml": 0.0}
        if total == 0 and waste_ml == 0:
            return moved
        with self._dosing:
            self._alternate(adds, waste_ml, total, moved)
        return {name: round(value, 6) for name, value in moved.items()}

    def _alternate(
        self, adds: dict[str, float], waste_ml: float, total: float, moved: dict[str, float]
    ) -> None:
        count = max(1, math.ceil(total / self.settings["max_subdose"] - 1e-9))
        pause = self.settings["pause_between_subdoses_seconds"]
        for _ in range(count):
            # liquid above the efflux tube (added by hand, or by a dose cut short) goes first
            excess = self.current_volume_ml - self.max_volume_ml
            if excess > 1e-6:
                self._remove_waste(excess)
            for pump, ml in adds.items():
                part = ml / count
                if part <= 0:
                    continue
                if not self._may_add(pump, part):
                    return
                result = self._dose(pump, part)
                if result is not None:
                    moved[f"{pump}_ml"] += result.ml  # net of the correction of a dose cut short
                if result is None or result.interrupted:
                    return
                if not self._pause(pause):
                    return
                self.mixed_at = self.clock.time()
            moved["waste_ml"] += self._remove_waste(waste_ml / count)
            if self._stop.is_set():
                return

    def _remove_waste(self, ml: float) -> float:
        """Remove ``ml`` then ``waste_removal_multiplier`` times more (down to the tube); the ml asked
        that were removed."""
        result = self._dose("waste", ml)
        removed = (result.pumped_ml or 0.0) if result is not None else 0.0
        if result is None or result.interrupted or self._stop.is_set():
            return removed
        extra = ml * self.settings["waste_removal_multiplier"]
        if extra > 0 and self._pause(0.05):
            self._dose("waste", extra)
        return removed

    # -- lifecycle ---------------------------------------------------------------------------
    def _start_runs(self) -> None:
        if self._started:
            return
        self._started = True
        if self.duration > 0:
            self.run_every(self.duration, skip_first_run=self._skip_first_run)
        elif not self._skip_first_run:
            threading.Thread(target=self.run, name=f"{self.automation_name}-once", daemon=True).start()

    def set_duration(self, minutes: float) -> None:
        if not (math.isfinite(minutes) and minutes > 0):
            raise ValueError(f"duration must be a positive number of minutes, got {minutes:g}")
        self.run_every(minutes, skip_first_run=True)
        self.duration = minutes

    def on_disconnected(self) -> None:
        self._stop.set()  # a dose in progress switches its pump off at once...
        if self._dosing.acquire(timeout=5.0):  # ...and no other starts
            self._dosing.release()
        super().on_disconnected()

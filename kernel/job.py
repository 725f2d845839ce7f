"""The job lifecycle: ``BackgroundJob``.

States: ``init -> ready <-> sleeping -> disconnected``, plus ``lost`` (the broker's last will
when the process vanishes). A job publishes its ``published_settings`` retained on
``pioreactor/<unit>/<experiment>/<job>/<setting>`` whenever they are assigned, and applies
writes on ``.../<setting>/set`` through ``set_<setting>()`` when the class defines one.

However a job ends (SIGTERM, SIGINT, ``$state/set disconnected``, an exception), it runs the
same clean-up: ``on_disconnected()``, then every hardware resource it holds goes to its safe
state, its settings are cleared from the broker, ``$state`` becomes ``disconnected`` and the
job registry forgets it.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, ClassVar

from pioreactor.kernel import identity, job_registry, outputs
from pioreactor.kernel.bus import Bus, Message, Will
from pioreactor.kernel.clock import get_clock
from pioreactor.kernel.logs import PioLogger, get_logger, setup_logging
from pioreactor.kernel.settings import (
    SettingDecodeError,
    check_published_settings,
    decode_value,
    encode_value,
    format_with_unit,
)

INIT, READY, SLEEPING, DISCONNECTED, LOST = "init", "ready", "sleeping", "disconnected", "lost"
STATES = (INIT, READY, SLEEPING, DISCONNECTED, LOST)
STATE_SETTING = {"datatype": "string", "settable": True, "persist": True}
#: a stop signal that came before this process's job installed its handlers (see runner)
signal_before_start = ""


class _JobMeta(type):
    """Runs the post-construction step once the subclass ``__init__`` has returned.

    If the subclass ``__init__`` raises, the half-built job is cleaned up (hardware safe,
    registry entry removed, ``$state`` disconnected) before the exception propagates.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        job = cls.__new__(cls)  # type: ignore[call-overload]
        try:
            job.__init__(*args, **kwargs)
            job._become_ready()
        except BaseException:
            job._abort_construction()
            raise
        return job


class BackgroundJob(metaclass=_JobMeta):
    """Base class of every long-running job. Subclass it, set ``job_name`` and
    ``published_settings``, and call ``super().__init__(unit, experiment)`` first thing."""

    job_name: ClassVar[str] = "background_job"
    published_settings: ClassVar[dict[str, dict[str, Any]]] = {}
    #: the log topic's source segment: ``app`` for core jobs, a plugin may use its own name
    source: ClassVar[str] = "app"
    #: a service of the unit (``monitor``, ``mqtt_to_db_streaming``, the web server): it starts
    #: even when the unit is inactive, and ``pio kill --all-jobs`` spares it
    long_running: ClassVar[bool] = False
    #: the unit to itself (``self_test``): it refuses to start while other jobs run, and other
    #: jobs (long-running ones aside) refuse to start while it runs
    exclusive: ClassVar[bool] = False

    INIT, READY, SLEEPING, DISCONNECTED, LOST = INIT, READY, SLEEPING, DISCONNECTED, LOST

    def __init__(self, unit: str, experiment: str) -> None:
        self._constructed = False
        self._stop_requested = ""
        if signal_before_start:  # `pio kill` came while the process was starting: do not start
            raise SystemExit(0)
        #: what `pio run` exits with once the job has stopped (see stop_with_error)
        self.exit_code = 0
        name = self.job_name
        if not name or name != name.lower() or name == "background_job":
            raise ValueError(f"{type(self).__name__}.job_name must be set to a lowercase name, got {name!r}")
        self.unit = identity.check_name("unit", unit)
        self.experiment = identity.check_experiment(experiment)
        self.job_source = identity.job_source()
        self.clock = get_clock()
        self.state = INIT
        self._settings = self.all_published_settings() | {"state": STATE_SETTING}
        check_published_settings(name, self._settings)
        self._held: list[Any] = []
        self._cleanup_lock = threading.Lock()
        self._cleaned = False
        self._disconnected_event = threading.Event()
        self._job_id: int | None = None
        self._owns_bus = False
        self.logger: PioLogger = get_logger(name, self.source)

        # refuse a duplicate before touching the broker, so a rejected start never clobbers
        # the running job's retained state or fires a last will
        self._registry, self._owns_registry = job_registry.registry_for_job()
        self._job_id = self._registry.register(
            unit=unit,
            experiment=experiment,
            job_name=name,
            job_source=self.job_source,
            pid=os.getpid(),
            long_running=self.long_running,
            exclusive=self.exclusive,
        )
        self._registry_lock = threading.Lock()
        outputs.job_started(self._job_id, name, experiment)

        self.bus = self._connect_bus()
        self._publish_setting("state", INIT)
        self.logger.debug("Init.")
        self._install_exit_handlers()
        self._subscribe_to_sets()
        self.bus.on_reconnect(self._republish_all)

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def all_published_settings(cls) -> dict[str, dict[str, Any]]:
        """``published_settings`` of this class and its bases (a subclass adds to its parents')."""
        merged: dict[str, dict[str, Any]] = {}
        for klass in reversed(cls.__mro__):
            merged.update(vars(klass).get("published_settings", {}))
        return merged

    @property
    def topic_prefix(self) -> str:
        return f"pioreactor/{self.unit}/{self.experiment}/{self.job_name}"

    def _connect_bus(self) -> Bus:
        from pioreactor.kernel import bus as bus_module

        existing = bus_module._process_bus
        if existing is not None:  # one client per process: a second job in it shares the first's
            return existing
        bus = Bus(
            f"{self.job_name}-{self.unit}-{self.experiment}",
            will=Will(f"{self.topic_prefix}/$state", LOST, qos=1, retain=True),
        )
        bus_module.set_bus(bus)
        self._owns_bus = True
        setup_logging(unit=self.unit, experiment=self.experiment, source=self.source, bus=bus)
        bus.connect()
        return bus

    def _become_ready(self) -> None:
        self._constructed = True
        if self._stop_requested:
            self.clean_up(reason=self._stop_requested)
            return
        for name in self._settings:
            # None means "no value yet": publishing it would clear a persisted value (e.g. the
            # last growth rate) that other jobs may still want to read
            if name != "state" and self.__dict__.get(name) is not None:
                self._publish_setting(name, self.__dict__[name])
        self.set_state(READY)

    def _abort_construction(self) -> None:
        if self.__dict__.get("_job_id") is None:  # refused before registering: nothing to undo
            return
        self.clean_up(reason="failed to start")

    # -- publishing settings -----------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        settings = self.__dict__.get("_settings")
        if (
            settings is not None
            and name in settings
            and name != "state"
            and self.__dict__.get("_constructed")
        ):
            self._publish_setting(name, value)

    def _publish_setting(self, name: str, value: Any) -> None:
        topic = f"{self.topic_prefix}/$state" if name == "state" else f"{self.topic_prefix}/{name}"
        payload = encode_value(value)
        self.bus.publish(topic, payload, qos=1, retain=True)
        if self._job_id is not None:
            with self._registry_lock:
                text = payload.decode() if isinstance(payload, bytes) else payload
                self._registry.record_setting(self._job_id, "$state" if name == "state" else name, text)

    def _republish_all(self) -> None:
        """After a reconnect: our retained state may be gone (a broker restart) or say ``lost``."""
        if self._cleaned:
            return
        for name in self._settings:
            if name == "state":
                continue
            if name in self.__dict__:
                self._publish_setting(name, self.__dict__[name])
        self._publish_setting("state", self.state)

    def add_to_published_settings(self, name: str, spec: dict[str, Any]) -> None:
        """Publish one more setting at run time (e.g. one that depends on config)."""
        check_published_settings(self.job_name, {name: spec})
        self._settings[name] = spec
        if name in self.__dict__:
            self._publish_setting(name, self.__dict__[name])

    # -- incoming /set -----------------------------------------------------------------------
    def _subscribe_to_sets(self) -> None:
        for unit in (self.unit, identity.UNIVERSAL_UNIT):
            self.bus.subscribe(
                f"pioreactor/{unit}/{self.experiment}/{self.job_name}/+/set",
                self._on_set_message,
                qos=1,
                allow_retained=False,
            )

    def _on_set_message(self, message: Message) -> None:
        # the setting follows the job's name, which may itself contain "/" (e.g. a profile run)
        setting = message.topic.split("/")[3 + len(self.job_name.split("/"))].lstrip("$")
        if setting == "state":
            self._on_state_request(message.text().strip())
            return
        spec = self._settings.get(setting)
        if spec is None:
            settable = sorted(name for name, s in self._settings.items() if s["settable"] and name != "state")
            self.logger.warning(
                "Unable to set `%s` in %s: %s has no setting `%s`. Settable: %s.",
                setting,
                self.job_name,
                self.job_name,
                setting,
                ", ".join(["$state", *settable]),
            )
            return
        if not spec["settable"]:
            self.logger.warning(
                "Unable to set `%s` in %s: `%s` is read-only.", setting, self.job_name, setting
            )
            return
        try:
            value = decode_value(spec["datatype"], message.payload)
        except SettingDecodeError as err:
            self.logger.error(
                "Cannot set %s to %r: %s (datatype %s). %s keeps running with %s = %s.",
                setting,
                message.text()[:80],
                err,
                spec["datatype"],
                self.job_name,
                setting,
                self.__dict__.get(setting),
            )
            return
        self.apply_setting(setting, value)

    def apply_setting(self, setting: str, value: Any) -> None:
        """Apply a decoded value through ``set_<setting>()`` if the class has one, else assign it."""
        previous = self.__dict__.get(setting)
        setter: Callable[[Any], Any] | None = getattr(self, f"set_{setting}", None)
        try:
            if setter is not None:
                setter(value)
            else:
                setattr(self, setting, value)
        except Exception as err:
            self.logger.error("Cannot set %s to %r: %s", setting, value, err)
            return
        unit = self._settings[setting].get("unit")
        self.logger.info(
            "Updated %s from %s to %s.",
            setting,
            format_with_unit(previous, unit),
            format_with_unit(self.__dict__.get(setting), unit),
        )

    def _on_state_request(self, requested: str) -> None:
        if requested == DISCONNECTED:
            self.request_stop("asked over MQTT")
        elif requested in (READY, SLEEPING):
            self.set_state(requested)
        else:
            self.logger.error("Cannot set state to %r: expected ready, sleeping or disconnected.", requested)

    # -- states ------------------------------------------------------------------------------
    def set_state(self, new_state: str) -> None:
        if new_state not in STATES:
            self.logger.error("Saw %r: not a valid state.", new_state)
            return
        old_state = self.state
        if new_state == old_state:
            return
        if old_state == DISCONNECTED:
            self.logger.debug("Ignoring a change to %s: the job is disconnected.", new_state)
            return
        transition = getattr(self, f"on_{old_state}_to_{new_state}", None)
        if transition is not None:
            try:
                transition()
            except Exception:
                self.logger.exception(
                    "Could not go from %s to %s; staying %s.", old_state, new_state, old_state
                )
                return
        self.state = new_state
        self._publish_setting("state", new_state)
        hook = getattr(self, f"on_{new_state}", None)
        if hook is not None:
            try:
                hook()
            except Exception:
                self.logger.exception("on_%s failed", new_state)
        if new_state == READY:
            self.logger.info("Ready.")
        elif new_state == DISCONNECTED:
            pass  # logged at the end of clean_up, once everything is safe
        else:
            self.logger.debug("%s.", new_state.capitalize())
        self._notify_plugins(old_state, new_state)

    def _notify_plugins(self, old_state: str, new_state: str) -> None:
        from pioreactor.kernel import plugins

        host = plugins._host
        if host is None:
            return
        host.call_hook(
            "pioreactor_job_state_changed",
            {"job": self, "old_state": old_state, "new_state": new_state},
            on_error=lambda plugin, err: self.logger.error(
                "Plugin %r failed in pioreactor_job_state_changed: %s: %s", plugin, type(err).__name__, err,
                exc_info=err,
            ),
        )

    # overridable hooks (no-ops) ------------------------------------------------------------
    def on_ready(self) -> None:
        """Called on entering ``ready`` (after init and after each resume)."""

    def on_sleeping(self) -> None:
        """Called on entering ``sleeping`` (paused)."""

    def on_disconnected(self) -> None:
        """Called once when the job stops: stop timers and put actuators in a safe state."""

    # -- hardware ----------------------------------------------------------------------------
    def hold(self, resource: Any) -> Any:
        """Own a hardware resource: its ``close()`` runs when the job ends, however it ends."""
        if self._cleaned:  # stopped while starting: never leave an output on
            resource.close()
            raise RuntimeError(f"{self.job_name} is stopping")
        self._held.append(resource)
        return resource

    def _release_hardware(self) -> None:
        while self._held:
            resource = self._held.pop()
            try:
                resource.close()
            except Exception:
                self.logger.exception("Could not release %r", resource)

    # -- stopping ----------------------------------------------------------------------------
    def stop_with_error(self, message: str) -> None:
        """Log ``message`` as an error and stop; ``pio run`` then exits with status 1."""
        self.logger.error(message)
        self.exit_code = 1
        self.request_stop("error")

    def request_stop(self, reason: str = "") -> None:
        """Stop from any thread (e.g. a bus callback) without blocking the caller."""
        threading.Thread(target=self.clean_up, kwargs={"reason": reason}, name="job-stop").start()

    def clean_up(self, reason: str = "") -> None:
        """Stop the job: idempotent, and safe from signal handlers and other threads."""
        if not self._cleanup_lock.acquire(blocking=False):
            return
        try:
            if self._cleaned:
                return
            self._cleaned = True
            if reason:
                self.logger.debug("Exiting: %s.", reason)
            old_state = self.state
            # a job whose __init__ failed half-way gets no on_disconnected (its attributes may
            # not exist); what it already holds is released below all the same
            if old_state != DISCONNECTED and self._constructed:
                transition = getattr(self, f"on_{old_state}_to_{DISCONNECTED}", None)
                for step in (transition, self.on_disconnected):
                    if step is None:
                        continue
                    try:
                        step()
                    except Exception:
                        self.logger.exception(
                            "Stopping %s raised; switching its hardware off anyway", self.job_name
                        )
            self._release_hardware()
            if self._job_id is not None:
                outputs.job_stopped(self._job_id)
            self.state = DISCONNECTED
            if "bus" in self.__dict__:
                self._clear_settings_from_broker()
                self._publish_setting("state", DISCONNECTED)
            self._notify_plugins(old_state, DISCONNECTED)
            if self._job_id is not None:
                with self._registry_lock:
                    self._registry.set_not_running(self._job_id)
                    self._job_id = None
                if self._owns_registry:
                    self._registry.close()
            self.logger.info("Disconnected.")
            if self._owns_bus:
                from pioreactor.kernel import bus as bus_module

                self.bus.close()
                bus_module.set_bus(None)
        finally:
            self._disconnected_event.set()
            self._cleanup_lock.release()

    def _clear_settings_from_broker(self) -> None:
        for name, spec in self._settings.items():
            if name == "state" or spec.get("persist"):
                continue
            self.bus.publish(f"{self.topic_prefix}/{name}", None, qos=1, retain=True)

    def block_until_disconnected(self) -> None:
        """Wait until the job has fully stopped (signals still interrupt the wait)."""
        while not self._disconnected_event.wait(0.5):
            pass

    def _install_exit_handlers(self) -> None:
        atexit.register(self.clean_up, reason="Python exiting")
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            # only ask: the main thread may hold a lock that the clean-up needs
            reason = f"signal {signal.Signals(signum).name}"
            if self._constructed:
                self.request_stop(reason)
            else:
                self._stop_requested = reason  # acted on when construction finishes

        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, handler)
        if signal_before_start:
            self._stop_requested = signal_before_start

    # -- context manager ---------------------------------------------------------------------
    def __enter__(self) -> BackgroundJob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.clean_up(reason="context exited")

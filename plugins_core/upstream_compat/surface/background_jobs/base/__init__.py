"""``pioreactor.background_jobs.base``: upstream's job classes on top of the SDK's ``BackgroundJob``.

What upstream plugins rely on and get here:

* ``BackgroundJob(unit, experiment, source="app")``, ``BackgroundJobContrib(unit, experiment,
  plugin_name)`` (logs under ``logs/<plugin_name>/<level>``), the long-running variants (spared
  by ``pio kill --all-jobs``), and the dodging ones (``BackgroundJobWithDodgingContrib``);
* ``published_settings`` as upstream declares them (other keys and datatypes are tolerated),
  ``set_<name>()`` called on ``.../<name>/set`` with the payload cast by its datatype;
* the state hooks ``on_init_to_ready``, ``on_ready_to_sleeping``, ``on_sleeping_to_ready``, ...,
  ``self.pub_client``, ``subscribe_and_callback``, ``add_to_published_settings``,
  ``block_until_disconnected``, ``clean_up``, ``blink_error_code``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pioreactor import sdk
from pioreactor.sdk import BackgroundJob as _SdkJob

__all__ = [
    "BackgroundJob",
    "BackgroundJobContrib",
    "BackgroundJobWithDodging",
    "BackgroundJobWithDodgingContrib",
    "LongRunningBackgroundJob",
    "LongRunningBackgroundJobContrib",
    "UpstreamJob",
    "UpstreamStateHooks",
]

PRIMITIVES = {"string", "float", "integer", "boolean", "json"}
ALIASES = {"str": "string", "text": "string", "int": "integer", "bool": "boolean"}
SPEC_KEYS = ("datatype", "settable", "unit", "persist")
#: every compat job class created (plugins' included), for the loader's automation registration
subclasses: list[type] = []


def normalise_setting(spec: dict[str, Any]) -> dict[str, Any]:
    """An upstream ``published_settings`` entry in the SDK's form: unknown keys dropped, a struct
    named by text (``"Temperature"``) given as its class, an unknown one published as JSON."""
    clean = {key: spec[key] for key in SPEC_KEYS if key in spec}
    clean["settable"] = bool(clean.get("settable", False))
    datatype: Any = clean.get("datatype", "string")
    if isinstance(datatype, str):
        datatype = ALIASES.get(datatype, datatype)
        if datatype not in PRIMITIVES:
            from pioreactor import structs

            found = getattr(structs, datatype, None)
            datatype = found if isinstance(found, type) and hasattr(found, "__struct_fields__") else "json"
    if clean["settable"] and datatype not in PRIMITIVES:
        clean["settable"] = False
    clean["datatype"] = datatype
    return clean


class PubClient:
    """Upstream's ``self.pub_client`` (a paho client): publishes through the job's bus."""

    def __init__(self, bus: Any) -> None:
        self._bus = bus

    def publish(self, topic: str, payload: Any = None, qos: int = 0, retain: bool = False, **_: Any) -> Any:
        if payload is not None and not isinstance(payload, (str, bytes, bytearray)):
            payload = str(payload)
        info = self._bus.publish(topic, payload, qos=qos, retain=retain)
        return info if info is not None else _Queued()

    def is_connected(self) -> bool:
        return bool(self._bus.connected.is_set())

    def subscribe(self, topic: str, qos: int = 0, **_: Any) -> None:
        pass  # callbacks go through subscribe_and_callback

    def loop_stop(self) -> None:
        pass

    def disconnect(self) -> None:
        pass


class _Queued:
    """What ``publish`` returns while the bus is offline (the message is queued)."""

    rc = 0

    def wait_for_publish(self, timeout: float | None = None) -> None:
        pass

    def is_published(self) -> bool:
        return False


class UpstreamStateHooks:
    """Upstream's state hooks as no-ops, so a plugin's override can call ``super()``. Always the
    last base of a compat class: an SDK job's own hook (e.g. the heater's pause while sleeping)
    comes first in the method order."""

    def on_init(self) -> None:
        pass

    def on_init_to_ready(self) -> None:
        pass

    def on_ready_to_sleeping(self) -> None:
        pass

    def on_sleeping_to_ready(self) -> None:
        pass

    def on_ready_to_disconnected(self) -> None:
        pass

    def on_sleeping_to_disconnected(self) -> None:
        pass

    def on_init_to_disconnected(self) -> None:
        pass


class UpstreamJob:
    """What upstream's jobs offer on top of the SDK's ``BackgroundJob`` (mixed into every compat
    job class, the automation bases included)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        subclasses.append(cls)

    @property
    def pub_client(self) -> PubClient:
        """Upstream's paho client; here, a publisher on the job's bus."""
        return PubClient(self.bus)  # type: ignore[attr-defined]

    @property
    def sub_client(self) -> PubClient:
        return self.pub_client

    @classmethod
    def all_published_settings(cls) -> dict[str, dict[str, Any]]:
        merged = super().all_published_settings()  # type: ignore[misc]
        return {name: normalise_setting(spec) for name, spec in merged.items()}

    def add_to_published_settings(self, name: str, spec: dict[str, Any]) -> None:
        super().add_to_published_settings(name, normalise_setting(dict(spec)))  # type: ignore[misc]

    def start_passive_listeners(self) -> None:
        """Subclasses subscribe here (upstream's convention); called by the subclass itself."""

    def subscribe_and_callback(
        self,
        callback: Callable[[Any], None],
        subscriptions: str | list[str],
        allow_retained: bool = True,
        qos: int = 0,
        **_: Any,
    ) -> None:
        """Call ``callback(message)`` (``.topic``, ``.payload``) for each message on ``subscriptions``."""
        job: Any = self

        def deliver(message: Any) -> None:
            if job.state == job.DISCONNECTED:
                return
            try:
                callback(message)
            except Exception:
                job.logger.exception(
                    "%s failed on a message from %s", getattr(callback, "__name__", callback), message.topic
                )

        topics = [subscriptions] if isinstance(subscriptions, str) else list(subscriptions)
        for topic in topics:
            job.bus.subscribe(topic, deliver, qos=1 if qos else 0, allow_retained=allow_retained)

    def blink_error_code(self, error_code: int) -> None:
        """Ask the monitor to flash the status LED ``error_code`` times (upstream's topic)."""
        unit = self.unit  # type: ignore[attr-defined]
        self.pub_client.publish(
            f"pioreactor/{unit}/{sdk.UNIVERSAL_EXPERIMENT}/monitor/flicker_led_with_error_code", str(error_code)
        )

    def clean_up(self, reason: str = "") -> None:
        super().clean_up(reason=reason)  # type: ignore[misc]
        from pioreactor.utils import pwm

        pwm.release_all()  # a plugin that forgot its PWM still leaves it off


class BackgroundJob(UpstreamJob, _SdkJob, UpstreamStateHooks):
    """Upstream's ``BackgroundJob``: ``__init__(unit, experiment, source="app")``."""

    job_name = "background_job"
    published_settings: dict[str, dict[str, Any]] = {}

    def __init__(self, unit: str, experiment: str, source: str = "app", **_: Any) -> None:
        self.source = source  # the log topic's source segment
        from pioreactor.utils import pwm

        pwm.current_job_name = self.job_name
        super().__init__(unit, experiment)


class BackgroundJobContrib(BackgroundJob):
    """A plugin's job: ``__init__(unit, experiment, plugin_name)``; logs carry the plugin's name."""

    def __init__(self, unit: str, experiment: str, plugin_name: str, **kwargs: Any) -> None:
        super().__init__(unit, experiment, source=plugin_name)
        self.plugin_name = plugin_name


class LongRunningBackgroundJob(BackgroundJob):
    """A job that keeps running across experiments (``pio kill --all-jobs`` spares it)."""

    long_running = True


class LongRunningBackgroundJobContrib(BackgroundJobContrib):
    long_running = True


from pioreactor.background_jobs.base.dodging import (  # noqa: E402 (needs the classes above)
    BackgroundJobWithDodging,
    BackgroundJobWithDodgingContrib,
)

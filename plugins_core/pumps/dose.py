"""Pumps: move liquid into and out of the vial, and say so on MQTT first.

Every dose, from ``pio run add_media`` or from a dosing automation, goes through :func:`dose`:

1. the pump's PWM channel comes from ``[PWM]`` (``2=media``, ``3=alt_media``, ``4=waste``);
2. a volume becomes seconds with the pump's active calibration (device ``<pump>_pump``); a pump
   without one refuses volumes and says how to calibrate it;
3. ``pioreactor_before_dose(dose)`` lets plugins change the volume or veto the dose;
4. the :class:`~pioreactor.sdk.structs.DosingEvent` is published on
   ``pioreactor/<unit>/<experiment>/dosing_events`` *before* the pump starts;
5. the pump runs for its duration on the kernel clock; a stop event, or losing the broker, cuts
   it short; however the dose ends, the PWM is switched off.

Pumps are named after their ``[PWM]`` device. ``media``, ``alt_media`` (both add liquid) and
``waste`` (removes it) are built in; ``[pumps]`` in config adds others as ``name = add`` or
``name = remove`` (a plugin declares its pump there through ``pioreactor_register_config_defaults``,
a user in ``config.ini``). A pump's dosing event is ``add_<name>`` or ``remove_<name>``.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from pioreactor.plugins_core.calibrations.api import (
    CalibrationError,
    PumpCalibration,
    load_active_calibration,
)
from pioreactor.sdk import (
    ConfigError,
    PioLogger,
    PioreactorError,
    get_assigned_experiment,
    get_bus,
    get_clock,
    get_config,
    get_hardware,
    get_logger,
    get_unit_name,
    is_process_alive,
    local_intermittent_storage,
)
from pioreactor.sdk.hardware import pwm_channel_for
from pioreactor.sdk.structs import DosingEvent, encode

Role = Literal["add", "remove"]
BUILTIN_PUMPS: dict[str, Role] = {"media": "add", "alt_media": "add", "waste": "remove"}
PUMPS_SECTION = "pumps"
LOCKS = "pump_locks"
#: a pump running continuously re-publishes its dosing event this often (clock seconds)
CONTINUOUS_EVENT_PERIOD = 10.0
#: how often (wall-clock seconds) a running pump checks the broker connection
BROKER_CHECK_SECONDS = 0.25
DEFAULT_PWM_HZ = 250.0
#: the 20 ml vial; ``[bioreactor] reactor_capacity_ml`` says otherwise
DEFAULT_VIAL_CAPACITY_ML = 20.0
#: why a dose stopped early when its process lost the MQTT broker
LOST_BROKER = "lost the MQTT broker"
#: a pump that ran longer than asked by more than both of these (its process was held up, e.g.
#: by a loaded machine; a fast simulated clock magnifies it) is reported, and counted as it ran
OVERRUN_TOLERANCE = 0.1
OVERRUN_TOLERANCE_SECONDS = 0.25
#: the end of a dose shorter than this (wall-clock seconds) away is waited for without sleeping
SPIN_SECONDS = 0.002


class DoseRefused(PioreactorError):
    """A dose that did not run: no calibration, no PWM channel, a veto, a busy pump, no broker."""


class DoseVetoed(DoseRefused):
    """A ``pioreactor_before_dose`` implementation vetoed the dose."""


# -- pumps -------------------------------------------------------------------------------------
def pump_roles() -> dict[str, Role]:
    """Every pump this unit knows: the built-in ones and those of ``[pumps]``, with their role."""
    roles: dict[str, Role] = dict(BUILTIN_PUMPS)
    config = get_config()
    for name, role in config.section(PUMPS_SECTION).items():
        role = (role or "").strip().lower()
        if name in BUILTIN_PUMPS and role == BUILTIN_PUMPS[name]:
            continue
        if (
            name in BUILTIN_PUMPS
            or role not in ("add", "remove")
            or not name.isidentifier()
            or name != name.lower()
        ):
            raise ConfigError(
                f"[{PUMPS_SECTION}] {name} = {role!r}: a pump is a lowercase name (not media, alt_media or waste) "
                "set to add or remove, e.g. `salt = add`"
            )
        roles[name] = role  # type: ignore[assignment]
    return roles


def pump_roles_with_plugin_defaults() -> dict[str, Role]:
    """:func:`pump_roles`, with the pumps that plugins declare even before a job loaded them
    (for command-line options; this imports every plugin)."""
    if (PUMPS_SECTION, "media") not in get_config().declared:
        from pioreactor.sdk.plugins import load_config_with_plugins

        load_config_with_plugins()
    return pump_roles()


def role_of(pump: str) -> Role:
    """``add`` or ``remove``: what ``pump`` does; ``DoseRefused`` naming the known pumps if none."""
    roles = pump_roles()
    try:
        return roles[pump]
    except KeyError:
        raise DoseRefused(
            f"no pump named {pump!r} (known: {', '.join(roles)}); a new pump needs a line `{pump} = add` "
            f"(or remove) under [{PUMPS_SECTION}] and a [PWM] channel"
        ) from None


def event_name(pump: str) -> str:
    """The dosing event of a pump: ``add_media``, ``add_alt_media``, ``remove_waste``, ``add_<name>``..."""
    return f"{role_of(pump)}_{pump}"


def calibration_device(pump: str) -> str:
    """The calibration device of a pump: ``media_pump``, ``waste_pump``..."""
    return f"{pump}_pump"


def how_to_calibrate(pump: str) -> str:
    """The message that tells a user how to calibrate ``pump`` (or run it for a duration)."""
    device = calibration_device(pump)
    return (
        f"the {pump} pump has no active calibration, so a volume cannot become a pumping time. "
        f"Calibrate it with `pio calibrations run --device {device}` (or make an existing one active with "
        f"`pio calibrations set-active --device {device} --name NAME`); "
        f"`--duration SECONDS` runs an uncalibrated pump"
    )


def active_pump_calibration(pump: str) -> PumpCalibration | None:
    """The active calibration of ``pump``, or None; ``CalibrationError`` if it is not a pump's."""
    calibration = load_active_calibration(calibration_device(pump))
    if calibration is not None and not isinstance(calibration, PumpCalibration):
        raise CalibrationError(
            f"the active calibration of {calibration_device(pump)} is a {type(calibration).__name__}, not a pump calibration"
        )
    return calibration


# -- the plugin hook ---------------------------------------------------------------------------
@dataclass
class DoseRequest:
    """What ``pioreactor_before_dose`` sees, and may change (``ml``) or refuse (``veto``).

    ``ml`` is ``math.inf`` for a pump running until stopped, and None for an uncalibrated pump
    run for a duration (its volume is unknown). ``seconds`` is the pumping time (None when
    running continuously).
    """

    unit: str
    experiment: str
    pump: str
    ml: float | None
    source_of_event: str | None
    seconds: float | None = None
    continuously: bool = False
    manually: bool = False
    vetoed_because: str | None = field(default=None, repr=False)

    def veto(self, reason: str) -> None:
        """Refuse the dose: the pump does not run, no dosing event is published, ``reason`` is logged."""
        self.vetoed_because = reason or "vetoed"

    @property
    def vetoed(self) -> bool:
        """True once an implementation called :meth:`veto`."""
        return self.vetoed_because is not None


def call_before_dose_hooks(request: DoseRequest) -> None:
    """Run every ``pioreactor_before_dose`` in pluggy's order (``tryfirst`` first, wrappers
    around) until one vetoes; an exception vetoes, naming its plugin."""
    from pioreactor.sdk import call_hook

    blamed: list[str] = []

    def blame(plugin: str) -> bool:
        if request.vetoed and not blamed:
            blamed.append(plugin)
            request.vetoed_because = f"{request.vetoed_because} (plugin {plugin!r})"
        return request.vetoed

    def raised(plugin: str, err: BaseException) -> None:
        if not request.vetoed:
            request.veto(f"plugin {plugin!r} raised {type(err).__name__}: {err}")
        blame(plugin)

    call_hook("pioreactor_before_dose", {"dose": request}, on_error=raised, until=blame)


# -- one process at a time per pump ----------------------------------------------------------
@contextmanager
def pump_lock(pump: str) -> Iterator[None]:
    """Keep other processes of this unit off ``pump`` while it runs (the lock dies with its process)."""
    me = os.getpid()
    with local_intermittent_storage(LOCKS) as store, store.transaction():
        holder = store.get(pump)
        if holder is not None and int(holder) != me and is_process_alive(int(holder), None):
            raise DoseRefused(f"the {pump} pump is busy: process {holder} is running it")
        store[pump] = me
    try:
        yield
    finally:
        with local_intermittent_storage(LOCKS) as store, store.transaction():
            if store.get(pump) == me:
                del store[pump]


# -- dosing ------------------------------------------------------------------------------------
@dataclass
class DoseResult:
    """What a dose did. ``ml`` is what the dosing events recorded (net of the correction a dose cut
    short publishes); ``pumped_ml`` what the pump moved by its calibration (less when stopped
    early; None if the pump is uncalibrated)."""

    pump: str
    event: str
    ml: float
    pumped_ml: float | None
    seconds: float
    manually: bool = False
    interrupted: str | None = None

    @property
    def completed(self) -> bool:
        """True if the dose ran to its end (not stopped, not cut short)."""
        return self.interrupted is None


def _check_amounts(ml: float | None, duration: float | None, continuously: bool, manually: bool) -> None:
    given = sum(x is not None and x is not False for x in (ml, duration, continuously or None))
    if given != 1:
        raise ValueError("give exactly one of ml, duration or continuously")
    for name, value in (("ml", ml), ("duration", duration)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a non-negative number, got {value:g}")
    if manually and continuously:
        raise ValueError("a manual dose has a volume (or a duration), it cannot be continuous")


@dataclass
class DosePlan:
    """A dose resolved before it runs: pump, channel, calibration, volume and time."""

    pump: str
    event: str
    channel: str | None
    calibration: PumpCalibration | None
    ml: float | None
    seconds: float | None
    continuously: bool
    manually: bool

    @property
    def duty_cycle(self) -> float:
        """The PWM duty cycle the pump runs at (its calibration's, else 100)."""
        return self.calibration.dc if self.calibration is not None else 100.0

    @property
    def hz(self) -> float:
        """The PWM frequency the pump runs at."""
        return self.calibration.hz if self.calibration is not None else DEFAULT_PWM_HZ

    def ml_for(self, seconds: float) -> float | None:
        """Millilitres moved in ``seconds`` by the calibration (None if uncalibrated)."""
        if self.calibration is None:
            return None
        return max(0.0, self.calibration.duration_to_ml(seconds)) if seconds > 0 else 0.0

    def seconds_for(self, ml: float) -> float:
        """Seconds to pump ``ml`` by the calibration; ``DoseRefused`` if uncalibrated."""
        if self.calibration is None:
            raise DoseRefused(how_to_calibrate(self.pump))
        return self.calibration.ml_to_duration(ml)


def plan_dose(
    pump: str,
    ml: float | None = None,
    duration: float | None = None,
    continuously: bool = False,
    *,
    manually: bool = False,
    calibration: PumpCalibration | None | Literal["active"] = "active",
) -> DosePlan:
    """Check a dose and work out its volume and time, without running anything.

    Raises ValueError for contradictory amounts and :class:`DoseRefused` (or ConfigError) for a
    dose that cannot run: an unknown pump, no ``[PWM]`` channel, no calibration for a volume."""
    _check_amounts(ml, duration, continuously, manually)
    event = event_name(pump)
    channel = None if manually else pwm_channel_for(pump)
    if calibration == "active":
        calibration = active_pump_calibration(pump)
    plan = DosePlan(pump, event, channel, calibration, None, None, continuously, manually)
    if ml is not None:
        plan.ml = ml
        plan.seconds = 0.0 if manually else plan.seconds_for(ml)
    elif duration is not None:
        plan.seconds = duration
        plan.ml = plan.ml_for(duration)
        if manually and plan.ml is None:
            raise DoseRefused(how_to_calibrate(pump))
    else:
        plan.ml = math.inf
    check_bounds(plan)
    return plan


def vial_capacity_ml() -> float:
    """``[bioreactor] reactor_capacity_ml``: what the vial holds, the most a pump may add at once."""
    return get_config().getfloat("bioreactor", "reactor_capacity_ml", fallback=DEFAULT_VIAL_CAPACITY_ML)


def check_bounds(plan: DosePlan) -> None:
    """A dose's time is finite, and a pump that adds liquid adds at most the vial's capacity, so
    a broken calibration (or a typo) cannot run a pump for hours."""
    if plan.seconds is not None and not (math.isfinite(plan.seconds) and plan.seconds >= 0):
        raise DoseRefused(
            f"the {plan.pump} dose works out at {plan.seconds} s, which cannot be pumped: "
            f"check the calibration of {calibration_device(plan.pump)}"
        )
    if plan.continuously or role_of(plan.pump) != "add" or plan.ml is None:
        return
    capacity = vial_capacity_ml()
    if plan.ml > capacity:
        raise DoseRefused(
            f"{plan.ml:g} ml is more than the vial holds ([bioreactor] reactor_capacity_ml = {capacity:g} ml): "
            f"the {plan.pump} pump would overflow it. Dose less, in several steps if need be"
        )


def dose(
    pump: str,
    ml: float | None = None,
    duration: float | None = None,
    continuously: bool = False,
    *,
    source_of_event: str | None = None,
    manually: bool = False,
    unit: str | None = None,
    experiment: str | None = None,
    stop: threading.Event | None = None,
    logger: PioLogger | None = None,
    calibration: PumpCalibration | None | Literal["active"] = "active",
    plan: DosePlan | None = None,
    on_event: Callable[[DosingEvent], None] | None = None,
) -> DoseResult:
    """Dose ``ml`` millilitres with ``pump`` (or run it ``duration`` seconds, or until ``stop`` is set).

    ``manually`` records the dose (dosing event and all) without running the pump, for liquid
    added or removed by hand. ``stop`` ends the dose early (the PWM goes off at once); so does
    losing the MQTT broker. ``on_event`` is called with each dosing event once it is published,
    before the pump starts.

    Returns a :class:`DoseResult`. Raises :class:`DoseRefused` (a veto: :class:`DoseVetoed`) if
    the dose cannot run, before any event is published and with the pump off.
    """
    unit = unit or get_unit_name()
    experiment = experiment or get_assigned_experiment()
    plan = plan or plan_dose(pump, ml, duration, continuously, manually=manually, calibration=calibration)
    log = logger or get_logger(plan.event)
    stop = stop or threading.Event()
    if stop.is_set():
        return DoseResult(
            pump, plan.event, 0.0, 0.0, 0.0, manually=plan.manually, interrupted="asked to stop"
        )
    _ask_plugins(plan, unit, experiment, source_of_event, log)
    if plan.ml == 0 or (plan.seconds == 0 and not plan.manually):
        return DoseResult(pump, plan.event, 0.0, 0.0, 0.0, manually=plan.manually)
    recorder = _Recorder(unit, experiment, plan.event, source_of_event, on_event)

    if plan.manually:
        assert plan.ml is not None
        recorder.publish(plan.ml)
        log.info(
            "%s %.3g ml of %s by hand (recorded, the pump did not run).",
            _verb(plan, done=True),
            plan.ml,
            _liquid(pump),
        )
        return DoseResult(pump, plan.event, plan.ml, None, 0.0, manually=True)

    assert plan.channel is not None
    with pump_lock(pump), _pwm(plan) as pwm:
        if plan.continuously:
            per_period = plan.ml_for(CONTINUOUS_EVENT_PERIOD) or 0.0
            recorder.publish(per_period)
            log.info("Running the %s pump continuously.", pump)
            seconds, interrupted = _run(pwm, plan, stop, log, math.inf, lambda: recorder.publish(per_period))
            log.info("Stopped the %s pump after %.1f s.", pump, seconds)
            return DoseResult(
                pump, plan.event, recorder.total, plan.ml_for(seconds), seconds, interrupted=interrupted
            )
        assert plan.seconds is not None
        recorder.publish(plan.ml if plan.ml is not None else 0.0)
        if plan.ml is None:
            log.warning(
                "Running the uncalibrated %s pump for %.2f s: its volume is unknown and recorded as 0 ml.",
                pump,
                plan.seconds,
            )
        else:
            log.info("%s %.3g ml of %s (%.2f s).", _verb(plan), plan.ml, _liquid(pump), plan.seconds)
        seconds, interrupted = _run(pwm, plan, stop, log, plan.seconds, None)
    if interrupted == "overran":
        pumped = plan.ml_for(seconds)
        log.warning(
            "The %s pump ran about %.2f s instead of %.2f s (this process was held up)%s.",
            pump,
            seconds,
            plan.seconds,
            f": about {pumped:.3g} ml instead of {recorder.total:.3g}" if pumped is not None else "",
        )
        return DoseResult(pump, plan.event, recorder.total, pumped, seconds)
    pumped = plan.ml if not interrupted else plan.ml_for(seconds)
    if interrupted and pumped is not None and recorder.total - pumped > 1e-6:
        recorder.publish(pumped - recorder.total)  # the correction: what was not pumped
    if interrupted:
        log.warning(
            "The %s pump stopped early (%s) after %.2f of %.2f s%s.",
            pump,
            interrupted,
            seconds,
            plan.seconds,
            f": about {pumped:.3g} of {plan.ml:.3g} ml" if pumped is not None and plan.ml is not None else "",
        )
    return DoseResult(pump, plan.event, recorder.total, pumped, seconds, interrupted=interrupted)


def _ask_plugins(
    plan: DosePlan, unit: str, experiment: str, source_of_event: str | None, log: PioLogger
) -> None:
    """``pioreactor_before_dose``: a veto raises DoseVetoed; a changed volume updates the plan."""
    request = DoseRequest(
        unit, experiment, plan.pump, plan.ml, source_of_event, plan.seconds, plan.continuously, plan.manually
    )
    call_before_dose_hooks(request)
    if request.vetoed:
        raise DoseVetoed(f"the {plan.pump} dose was vetoed: {request.vetoed_because}")
    if request.ml == plan.ml:
        return
    new_ml = request.ml
    if new_ml is None or not (math.isfinite(new_ml) and new_ml >= 0):
        raise DoseVetoed(f"a plugin set the {plan.pump} dose to {new_ml!r} ml, which cannot be dosed")
    log.info("A plugin changed the %s dose from %s to %.3g ml.", plan.pump, plan.ml, new_ml)
    plan.ml, plan.continuously = new_ml, False
    plan.seconds = 0.0 if plan.manually else plan.seconds_for(new_ml)
    check_bounds(plan)


class _Recorder:
    """Publishes a dose's dosing events (QoS 2, not retained) and adds up what they recorded."""

    def __init__(
        self,
        unit: str,
        experiment: str,
        event: str,
        source: str | None,
        on_event: Callable[[DosingEvent], None] | None,
    ) -> None:
        self.bus = get_bus()
        if not self.bus.connected.is_set():
            raise DoseRefused(
                f"not connected to the MQTT broker: the {event} dose would go unrecorded, so it does not run"
            )
        self.topic = f"pioreactor/{unit}/{experiment}/dosing_events"
        self.event, self.source, self.on_event = event, source, on_event
        self.clock = get_clock()
        self.total = 0.0

    def publish(self, volume: float) -> DosingEvent:
        event = DosingEvent(
            volume_change=round(volume, 6),
            event=self.event,
            source_of_event=self.source,
            timestamp=self.clock.utc_now(),
        )
        self.bus.publish(self.topic, encode(event), qos=2)
        self.total += event.volume_change
        if self.on_event is not None:
            self.on_event(event)
        return event


@contextmanager
def _pwm(plan: DosePlan) -> Iterator[Any]:
    """The pump's PWM, off on entry and off and released on exit, whatever happens."""
    assert plan.channel is not None
    pwm = get_hardware().pwm(plan.channel, plan.hz)
    try:
        pwm.off()
        yield pwm
    finally:
        try:
            pwm.off()
        finally:
            pwm.close()


def _run(
    pwm: Any,
    plan: DosePlan,
    stop: threading.Event,
    log: PioLogger,
    seconds: float,
    every_period: Callable[[], Any] | None,
    duty_cycle: float | None = None,
) -> tuple[float, str | None]:
    """Run the PWM for ``seconds`` (clock) unless stopped; (seconds it ran, why it stopped early).

    The time counts from just before the PWM is switched on to just before it is switched off,
    so the time a (simulated or real) driver takes to switch is not added to the dose."""
    clock = get_clock()
    bus = get_bus()
    if stop.is_set():
        return 0.0, "asked to stop"
    if math.isnan(seconds) or (math.isinf(seconds) and not plan.continuously) or seconds < 0:
        raise DoseRefused(f"refusing to run the {plan.pump} pump for {seconds} s")
    started = clock.monotonic()
    duty = plan.duty_cycle if duty_cycle is None else duty_cycle
    # a simulated pump keeps its own deadline in simulated time (see docs/vial.md)
    timed = getattr(pwm, "set_duty_cycle_for", None)
    keeps_deadline = bool(timed(duty, seconds)) if timed and math.isfinite(seconds) else False
    if keeps_deadline:
        # its deadline counts from its own switch-on, after recording it: count from there too,
        # or switching it off at ours would cut the dose short by the time switching took
        started = clock.monotonic()
    else:
        pwm.set_duty_cycle(duty)
    next_event = started + CONTINUOUS_EVENT_PERIOD
    interrupted: str | None = None
    while True:
        now = clock.monotonic()
        remaining = started + seconds - now
        if remaining <= 0:
            break
        wait = min(remaining, next_event - now) if every_period is not None else remaining
        real_wait = clock.to_real(wait)
        if keeps_deadline:  # the simulated world stops the pump; wait on the (governed) clock
            clock.wait(stop, min(wait, clock.speed * BROKER_CHECK_SECONDS))
        elif real_wait < SPIN_SECONDS:
            # the last moments: a thread can wake a tenth of a millisecond late, which a fast
            # simulated clock turns into seconds of pumping
            deadline = now + wait
            while clock.monotonic() < deadline and not stop.is_set():
                pass
        elif stop.wait(min(real_wait - SPIN_SECONDS / 2, BROKER_CHECK_SECONDS)):
            pass
        if stop.is_set():
            interrupted = "asked to stop"
            break
        if not bus.connected.is_set():
            interrupted = LOST_BROKER
            log.error("Lost the MQTT broker: switching the %s pump off.", plan.pump)
            break
        if every_period is not None and clock.monotonic() >= next_event:
            every_period()
            next_event += CONTINUOUS_EVENT_PERIOD
    ran = clock.monotonic() - started
    pwm.set_duty_cycle(0.0)
    if keeps_deadline and not interrupted:
        ran = min(ran, seconds)
    if (
        not interrupted
        and math.isfinite(seconds)
        and ran - seconds > max(OVERRUN_TOLERANCE_SECONDS, OVERRUN_TOLERANCE * seconds)
    ):
        return ran, "overran"  # this thread was held up past the end of the dose
    return max(0.0, min(seconds, ran)), interrupted


def _verb(plan: DosePlan, done: bool = False) -> str:
    adds = plan.event.startswith("add_")
    if done:
        return "Added" if adds else "Removed"
    return "Adding" if adds else "Removing"


def _liquid(pump: str) -> str:
    return {"media": "media", "alt_media": "alt media", "waste": "waste"}.get(pump, f"{pump}")


# -- circulation -------------------------------------------------------------------------------
#: the media pump runs this fraction of each cycle while waste runs all the time
CIRCULATION_RATIO = 0.85
CIRCULATION_CYCLE_SECONDS = 1.0


def _flow(calibration: PumpCalibration | None) -> float | None:
    if calibration is None:
        return None
    rate = calibration.duration_to_ml(1.0) - calibration.duration_to_ml(0.0)
    return rate if rate > 0 else None


def circulate(
    pump: str,
    duration: float | None = None,
    ml: float | None = None,
    continuously: bool = False,
    *,
    source_of_event: str | None = None,
    unit: str | None = None,
    experiment: str | None = None,
    stop: threading.Event | None = None,
    logger: PioLogger | None = None,
) -> DoseResult:
    """Run ``pump`` (media or alt_media) in and the waste pump out together, for ``duration``
    seconds, until ``ml`` of it went through, or until stopped.

    The waste pump starts first and stops last; ``pump`` runs 85 % of each second (less if the
    waste pump is slower), so the vial cannot fill up. One dosing event ``circulate_<pump>``
    records the volume that goes through (the calibrated estimate; 0 ml without a calibration),
    every 10 s when running continuously."""
    if role_of(pump) != "add":
        raise DoseRefused(f"only a pump that adds liquid can circulate, not {pump!r}")
    _check_amounts(ml, duration, continuously, False)
    unit = unit or get_unit_name()
    experiment = experiment or get_assigned_experiment()
    stop = stop or threading.Event()
    event_name_ = f"circulate_{pump}"
    log = logger or get_logger(event_name_)
    plan = plan_dose(pump, duration=1.0)
    waste = plan_dose("waste", continuously=True)
    media_flow, waste_flow = _flow(plan.calibration), _flow(waste.calibration)
    ratio = CIRCULATION_RATIO
    if media_flow and waste_flow:
        ratio = min(ratio, waste_flow / media_flow)
    if ml is not None:
        duration = plan.seconds_for(ml) / ratio * CIRCULATION_CYCLE_SECONDS
    total = math.inf if continuously else float(duration or 0.0)
    on_time = _on_time(total, ratio) if not continuously else ratio * CONTINUOUS_EVENT_PERIOD
    plan.ml, plan.seconds, plan.continuously = (
        plan.ml_for(on_time),
        None if continuously else total,
        continuously,
    )
    if continuously:
        plan.ml = math.inf
    if stop.is_set():
        return DoseResult(pump, event_name_, 0.0, 0.0, 0.0, interrupted="asked to stop")
    asked = plan.ml
    _ask_plugins(plan, unit, experiment, source_of_event, log)
    if plan.ml != asked:  # a plugin changed the volume: circulate that much
        assert plan.seconds is not None
        continuously, total = False, plan.seconds / ratio * CIRCULATION_CYCLE_SECONDS
        on_time = _on_time(total, ratio)
    _ask_plugins(waste, unit, experiment, source_of_event, log)
    per_record = plan.ml_for(on_time) or 0.0
    recorder = _Recorder(unit, experiment, event_name_, source_of_event, None)
    with pump_lock("waste"), pump_lock(pump), _pwm(waste) as waste_pwm, _pwm(plan) as media_pwm:
        recorder.publish(per_record)
        if per_record == 0.0 and plan.calibration is None:
            log.warning(
                "The %s pump is uncalibrated: the volume circulated is unknown and recorded as 0 ml.", pump
            )
        log.info(
            "Circulating %s for %s (waste runs throughout).",
            _liquid(pump),
            "ever" if continuously else f"{total:.1f} s",
        )
        clock = get_clock()
        started = clock.monotonic()
        waste_pwm.set_duty_cycle(waste.duty_cycle)
        interrupted: str | None = None
        media_seconds = 0.0
        next_event = started + CONTINUOUS_EVENT_PERIOD
        try:
            while not interrupted:
                elapsed = clock.monotonic() - started
                if elapsed >= total:
                    break
                pulse = min(ratio * CIRCULATION_CYCLE_SECONDS, total - elapsed)
                ran, interrupted = _run(media_pwm, plan, stop, log, pulse, None)
                interrupted = None if interrupted == "overran" else interrupted
                media_seconds += ran
                rest = min(CIRCULATION_CYCLE_SECONDS - ran, total - (clock.monotonic() - started))
                if not interrupted and rest > 0 and clock.wait(stop, rest):
                    interrupted = "asked to stop"
                if continuously and clock.monotonic() >= next_event:
                    recorder.publish(per_record)
                    next_event += CONTINUOUS_EVENT_PERIOD
            # waste ends last: one more cycle after media stopped (unless stopping now)
            if not interrupted:
                clock.wait(stop, CIRCULATION_CYCLE_SECONDS)
        finally:
            media_pwm.off()
            waste_pwm.off()
    seconds = clock.monotonic() - started
    pumped = plan.ml_for(media_seconds)
    if interrupted and not continuously and pumped is not None and recorder.total - pumped > 1e-6:
        recorder.publish(pumped - recorder.total)  # the correction: what did not go through
    log.info("Circulated %s for %.1f s.", _liquid(pump), seconds)
    return DoseResult(
        pump, event_name_, recorder.total, plan.ml_for(media_seconds), seconds, interrupted=interrupted
    )


def _on_time(total: float, ratio: float) -> float:
    """Seconds the circulated pump runs in ``total`` seconds of cycles."""
    cycles, rest = divmod(total, CIRCULATION_CYCLE_SECONDS)
    return cycles * ratio * CIRCULATION_CYCLE_SECONDS + min(rest, ratio * CIRCULATION_CYCLE_SECONDS)

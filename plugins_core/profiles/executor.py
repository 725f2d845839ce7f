"""Running a profile: a job of its own (``experiment_profile/<run id>``) that fires each action on
the kernel clock, so a scaled clock runs a 48-hour profile in seconds.

The run publishes ``experiment_profile_name``, ``profile_filename``, ``start_time_utc``,
``action_count``, ``hours_elapsed`` and ``percent_progress`` under
``pioreactor/<unit>/<experiment>/experiment_profile/<run id>/``, with its ``$state``. Each run
has its own id, so several profiles run in one experiment without meeting. Stopping a run
early (Ctrl-C, SIGTERM, ``pio kill``, ``$state/set disconnected``) stops the jobs it started;
a run that finishes leaves them running, as its last actions left them. Pausing a run
(``$state/set sleeping``) pauses its timeline.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import logging
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pioreactor.plugins_core.profiles import interfaces
from pioreactor.plugins_core.profiles.checks import LED_CHANNELS, LED_INTENSITY
from pioreactor.plugins_core.profiles.control import ControlError, JobControl, LocalJobControl
from pioreactor.plugins_core.profiles.durations import format_duration
from pioreactor.plugins_core.profiles.evaluate import (
    Environment,
    ExpressionError,
    Template,
    evaluate_template,
    format_value,
)
from pioreactor.plugins_core.profiles.live_values import LiveValues
from pioreactor.plugins_core.profiles.model import Action, JobBlock, Profile
from pioreactor.sdk import BackgroundJob, get_unit_name
from pioreactor.sdk import plugins as sdk_plugins

#: at equal times: starts, then changes, then stops; logs last
PRIORITY = {"start": 0, "resume": 1, "update": 2, "pause": 3, "stop": 4, "repeat": 5, "when": 5, "log": 7}
PLUGIN_PRIORITY = 6
STATES = {"pause": "sleeping", "resume": "ready", "stop": "disconnected"}
#: a when checks its condition about every 20 clock seconds (15-25, jittered), as upstream does,
#: and never more often than every 50 real milliseconds on a fast clock
WHEN_POLL_SECONDS = (15.0, 25.0)
WHEN_POLL_MIN_REAL_SECONDS = 0.05
#: how long an action on a job this run just started waits for it to be ready (real seconds)
JOB_READY_TIMEOUT_SECONDS = 30.0
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "notice": logging.INFO + 5, "warning": logging.WARNING, "error": logging.ERROR}


@dataclass(order=True)
class _Entry:
    due: float
    priority: int
    sequence: int
    fire: Callable[[], None] = field(compare=False)


class Timeline:
    """Callbacks due at times (clock seconds since the start, pauses excluded)."""

    def __init__(self, clock: Any, logger: Any) -> None:
        self.clock = clock
        self.logger = logger
        self._heap: list[_Entry] = []
        self._sequence = itertools.count()
        self._started = clock.monotonic()
        self._paused_total = 0.0
        self._paused_at: float | None = None
        self.stopped = threading.Event()
        self.wake = threading.Event()

    def elapsed(self) -> float:
        now = self._paused_at if self._paused_at is not None else self.clock.monotonic()
        return now - self._started - self._paused_total

    def add(self, due: float, priority: int, fire: Callable[[], None]) -> None:
        heapq.heappush(self._heap, _Entry(due, priority, next(self._sequence), fire))
        self.wake.set()

    def pending(self) -> int:
        return len(self._heap)

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self.clock.monotonic()
            self.wake.set()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused_total += self.clock.monotonic() - self._paused_at
            self._paused_at = None
            self.wake.set()

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()

    def run(self) -> bool:
        """Fire entries as they fall due; True once none are left, False if stopped first."""
        while True:
            self.wake.clear()
            if self.stopped.is_set():
                return False
            if self._paused_at is not None:
                self.wake.wait(0.5)
                continue
            if not self._heap:
                return True
            delay = self._heap[0].due - self.elapsed()
            if delay > 0:
                self.clock.wait(self.wake, delay)
                continue
            entry = heapq.heappop(self._heap)
            try:
                entry.fire()
            except Exception:
                self.logger.exception("An action failed; the profile goes on")


class ProfileRun(BackgroundJob):
    """One execution of a profile (its ``job_name`` is ``experiment_profile/<run id>``)."""

    job_name = "experiment_profile"
    published_settings = {
        "experiment_profile_name": {"datatype": "string", "settable": False},
        "profile_filename": {"datatype": "string", "settable": False},
        "start_time_utc": {"datatype": "string", "settable": False},
        "run_id": {"datatype": "string", "settable": False},
        #: actions carried out so far (a repeat's actions count once per loop)
        "action_count": {"datatype": "integer", "settable": False},
        "hours_elapsed": {"datatype": "float", "settable": False, "unit": "h"},
        "percent_progress": {"datatype": "float", "settable": False, "unit": "%"},
    }

    def __init__(self, unit: str, experiment: str, *, profile: Profile, filename: str, run_id: str) -> None:
        super().__init__(unit, experiment)
        self.profile = profile
        self.run_id = run_id
        self.experiment_profile_name = profile.name
        self.profile_filename = filename
        self.start_time_utc = self.clock.utc_timestamp()
        self.action_count = 0
        self.hours_elapsed = 0.0
        self.planned_seconds = planned_duration(profile)
        self.percent_progress: float | None = 0.0 if self.planned_seconds is not None else None
        self.finished = False
        self.timeline = Timeline(self.clock, self.logger)
        self.live = LiveValues(self.bus, experiment)
        self.control: JobControl = LocalJobControl(self.bus, unit, experiment, self.logger, self.interface)
        self._interfaces: dict[tuple[str, str | None], Any] = {}
        self._functions = self._load_functions()
        self._action_types = sdk_plugins.profile_actions()
        # the kernel reads the setting of a /set topic from the segment after a one-segment job
        # name; this job's name has two, so it listens to its own $state/set
        self.bus.subscribe(f"{self.topic_prefix}/$state/set", self._on_state_set, qos=1, allow_retained=False)

    def _on_state_set(self, message: Any) -> None:
        requested = message.text().strip()
        if requested == self.DISCONNECTED:
            self.request_stop("asked over MQTT")
        elif requested in (self.READY, self.SLEEPING):
            self.set_state(requested)
        else:
            self.logger.error("Cannot set state to %r: expected ready, sleeping or disconnected.", requested)

    # -- what jobs accept ----------------------------------------------------------------
    def interface(self, job: str, options: dict[str, Any]) -> Any:
        name = options.get("automation_name")
        key = (job, str(name) if name is not None else None)
        if key not in self._interfaces:
            interface = interfaces.job_interface(job)
            if interface is not None and interface.automation_kind and name is not None:
                interface = interfaces.automation_interface(interface.automation_kind, str(name)) or interface
            self._interfaces[key] = interface
        return self._interfaces[key]

    def _load_functions(self) -> dict[str, Callable[..., Any]]:
        functions = {}
        for name, spec in sdk_plugins.expression_functions().items():
            try:
                functions[name] = spec.load()
            except Exception as err:
                self.logger.warning("Expression function %s() of plugin %s cannot be loaded: %s", name, spec.plugin, err)
        return functions

    # -- lifecycle -----------------------------------------------------------------------
    def on_sleeping(self) -> None:
        self.timeline.pause()
        self.logger.notice("Paused profile %s: its timeline waits until it is resumed.", self.profile.name)

    def on_sleeping_to_ready(self) -> None:
        self.timeline.resume()
        self.logger.notice("Resumed profile %s.", self.profile.name)

    def on_disconnected(self) -> None:
        self.timeline.stop()
        if self.finished:
            return
        stopped = self.control.stop_started()
        self.logger.notice(
            "Stopped profile %s early: %d scheduled action(s) will not run; stopped the %d job(s) it started%s.",
            self.profile.name,
            self.timeline.pending(),
            len(stopped),
            f" ({', '.join(stopped)})" if stopped else "",
        )

    def execute(self) -> None:
        """Schedule every action and fire them until none are left (or the run is stopped)."""
        units = self.control.units()
        self.logger.notice(
            "Executing profile %s (%s), run %s, in experiment %s: %d action(s).",
            self.profile.name,
            self.profile_filename,
            self.run_id,
            self.experiment,
            self.profile.action_count(),
        )
        if not units and self.profile.common:
            self.logger.warning("This unit is not active: the common jobs run nowhere.")
        for unit, label in self.profile.labels.items():
            if self.control.reachable(unit):
                self.control.set_label(unit, label)
        for block in self.profile.common:
            for unit in units:
                self.schedule(unit, block, block.actions, 0.0)
        for unit, blocks in self.profile.units.items():
            if not self.control.reachable(unit):
                count = sum(1 for b in blocks for a in b.actions for _ in a.walk())
                self.logger.warning(
                    "%s is not this unit (%s): its %d action(s) are skipped on a single-unit setup.", unit, self.unit, count
                )
                continue
            for block in blocks:
                self.schedule(unit, block, block.actions, 0.0)
        self.finished = self.timeline.run()
        if self.finished:
            self._progress()
            self.logger.notice(
                "Finished profile %s after %s: %d action(s) carried out.",
                self.profile.name,
                format_duration(self.timeline.elapsed()),
                self.action_count,
            )

    def schedule(self, unit: str, block: JobBlock, actions: list[Action], base: float, loop: int | None = None) -> None:
        for action in actions:
            priority = PRIORITY.get(action.type, PLUGIN_PRIORITY)
            due = base + action.at
            self.timeline.add(due, priority, functools.partial(self.fire, unit, block, action, loop, due))

    # -- firing --------------------------------------------------------------------------
    def environment(self, unit: str, job: str) -> Environment:
        return Environment(
            unit=unit,
            job=job,
            experiment=self.experiment,
            inputs=self.profile.inputs,
            hours_elapsed=lambda: self.timeline.elapsed() / 3600.0,
            read_live=self.live.read,
            functions=self._functions,
        )

    def where(self, action: Action, loop: int | None) -> str:
        stamp = format_duration(max(0.0, self.timeline.elapsed()))
        return f"step {action.step}" + (f" (loop {loop})" if loop else "") + f" at {stamp}"

    def holds(self, condition: Any, env: Environment) -> bool:
        if condition is None or isinstance(condition, bool):
            return condition is None or condition
        return bool(evaluate_template(condition, env))

    def fire(self, unit: str, block: JobBlock, action: Action, loop: int | None, due: float) -> None:
        env = self.environment(unit, block.name)
        where = self.where(action, loop)
        try:
            if action.type == "repeat":
                self.repeat(unit, block, action, env, 0, due)
                return
            if action.type == "when":
                self.when(unit, block, action, env, first=True)
                return
            if not self.holds(action.condition, env):
                self.logger.info("%s: skipped %s of %s on %s: its if is false.", where, action.type, block.name, unit)
                return
            self.carry_out(unit, block, action, env, where)
            self.action_count += 1
        except (ExpressionError, ControlError) as err:
            self.logger.warning("%s: %s of %s on %s not done: %s", where, action.type, block.name, unit, err)
        except Exception as err:
            self.logger.warning("%s: %s of %s on %s failed: %s: %s", where, action.type, block.name, unit, type(err).__name__, err)
        finally:
            self._progress()

    def _progress(self) -> None:
        hours = round(self.timeline.elapsed() / 3600.0, 4)
        if hours != self.hours_elapsed:
            self.hours_elapsed = hours
        if self.planned_seconds is not None:
            percent = 100.0 if self.planned_seconds <= 0 else min(100.0, 100.0 * self.timeline.elapsed() / self.planned_seconds)
            self.percent_progress = round(100.0 if self.finished else percent, 1)

    def evaluate_options(self, options: dict[str, Any], env: Environment) -> dict[str, Any]:
        return {key: evaluate_template(value, env) if isinstance(value, Template) else value for key, value in options.items()}

    def carry_out(self, unit: str, block: JobBlock, action: Action, env: Environment, where: str) -> None:
        job = block.name
        kind = action.type
        if kind == "log":
            message = evaluate_template(action.message, env) if action.message is not None else ""
            self.logger.log(LEVELS.get(action.level, LEVELS["notice"]), str(message))
            return
        if kind == "start":
            options = self.evaluate_options(action.options, env)
            overrides = [
                (section, key, evaluate_template(value, env) if isinstance(value, Template) else value)
                for section, key, value in action.config_overrides
            ]
            command = self.control.start(unit, job, options, action.args, overrides)
            self.logger.info("%s: started %s on %s: %s", where, job, unit, command)
            return
        if job == LED_INTENSITY and kind in ("update", "pause", "stop"):  # LEDs are set, not run
            options = self.evaluate_options(action.options, env) if kind == "update" else dict.fromkeys(LED_CHANNELS, 0)
            command = self.control.start(unit, LED_INTENSITY, options, [], [])
            self.logger.info("%s: %s of %s on %s: %s", where, kind, job, unit, command)
            return
        if kind in STATES:
            if job == LED_INTENSITY:
                self.logger.info("%s: resume of led_intensity does nothing (set intensities with update).", where)
                return
            self._wait_for(unit, job, where)
            done = self.control.set_state(unit, job, STATES[kind])
            verb = {"pause": "paused", "resume": "resumed", "stop": "stopped"}[kind]
            if done:
                self.logger.info("%s: %s %s on %s.", where, verb, job, unit)
            else:
                self.logger.warning(
                    "%s: asked %s on %s to %s; it has not confirmed (is it running in %s?).", where, job, unit, kind, self.experiment
                )
            return
        if kind == "update":
            settings = self.evaluate_options(action.options, env)
            if "automation_name" in settings and job.endswith("_automation"):
                settings.pop("automation_name")
                self.logger.warning("%s: update cannot switch the automation of %s; automation_name is ignored.", where, job)
            self._wait_for(unit, job, where)
            unconfirmed = self.control.update(unit, job, settings)
            shown = ", ".join(f"{k}={format_value(v)}" for k, v in settings.items())
            self.logger.info("%s: updated %s on %s: %s", where, job, unit, shown)
            if unconfirmed:
                self.logger.warning(
                    "%s: %s on %s has not confirmed %s (it may have refused the value: see its log, or is it not running?).",
                    where, job, unit, ", ".join(unconfirmed),
                )
            return
        self.plugin_action(unit, block, action, env, where)

    def _wait_for(self, unit: str, job: str, where: str) -> None:
        if not self.control.wait_until_ready(unit, job, JOB_READY_TIMEOUT_SECONDS):
            self.logger.warning("%s: %s on %s is not ready (yet); sending anyway.", where, job, unit)

    def plugin_action(self, unit: str, block: JobBlock, action: Action, env: Environment, where: str) -> None:
        spec = self._action_types.get(action.type)
        if spec is None:
            raise ControlError(f"no plugin provides the action type {action.type!r}")
        target = spec.load()
        options = self.evaluate_options(action.options, env)
        target(ActionContext(self, unit, block.name, action.step, env), options)
        self.logger.info("%s: %s (plugin %s) on %s done.", where, action.type, spec.plugin, unit)

    # -- repeat and when -----------------------------------------------------------------
    def repeat(self, unit: str, block: JobBlock, action: Action, env: Environment, loop: int, loop_start: float) -> None:
        where = self.where(action, loop + 1)
        try:
            if loop == 0 and not self.holds(action.condition, env):
                self.logger.info("%s: skipped the repeat of %s: its if is false.", where, block.name)
                return
            if not self.holds(action.while_, env):
                self.logger.info("%s: the repeat of %s ends: its while is false.", where, block.name)
                return
        except ExpressionError as err:
            self.logger.warning("%s: the repeat of %s ends: %s", where, block.name, err)
            return
        every = action.every or 0.0
        children = [child for child in action.children if child.at <= every]
        self.logger.debug("%s: loop %d of the repeat of %s.", where, loop + 1, block.name)
        self.schedule(unit, block, children, loop_start, loop + 1)
        loops = loop + 1
        if every > 0 and (action.max_time is None or loops * every < action.max_time):
            self.timeline.add(
                loop_start + every,
                PRIORITY["repeat"],
                lambda: self.repeat(unit, block, action, env, loops, loop_start + every),
            )

    def when(self, unit: str, block: JobBlock, action: Action, env: Environment, first: bool) -> None:
        where = self.where(action, None)
        try:
            if first and not self.holds(action.condition, env):
                self.logger.info("%s: skipped the when of %s: its if is false.", where, block.name)
                return
            ready = self.holds(action.wait_until if action.wait_until is not None else False, env)
        except ExpressionError as err:
            self.logger.debug("%s: the condition of the when of %s cannot be evaluated yet: %s", where, block.name, err)
            ready = False
        if ready:
            self.logger.info("%s: the condition of the when of %s holds: its %d action(s) follow.", where, block.name, len(action.children))
            self.schedule(unit, block, action.children, self.timeline.elapsed())
            return
        interval = max(random.uniform(*WHEN_POLL_SECONDS), self.clock.speed * WHEN_POLL_MIN_REAL_SECONDS)
        self.timeline.add(self.timeline.elapsed() + interval, PRIORITY["when"], lambda: self.when(unit, block, action, env, first=False))


@dataclass
class ActionContext:
    """What a plugin's action type gets (see :class:`~pioreactor.plugins_core.profiles.api.ProfileActionContext`)."""

    run: ProfileRun
    unit: str
    job_name: str
    step: int
    env: Environment

    @property
    def experiment(self) -> str:
        return self.run.experiment

    @property
    def logger(self) -> Any:
        return self.run.logger

    def hours_elapsed(self) -> float:
        return self.run.timeline.elapsed() / 3600.0

    def evaluate(self, expression: str) -> Any:
        from pioreactor.plugins_core.profiles.evaluate import compile_condition

        compiled = compile_condition(expression)
        return compiled if isinstance(compiled, bool) else evaluate_template(compiled, self.env)

    def start_job(self, job_name: str, options: dict[str, Any] | None = None) -> None:
        self.run.control.start(self.unit, job_name, options or {}, [], [])

    def update_job(self, job_name: str, settings: dict[str, Any]) -> None:
        self.run.control.update(self.unit, job_name, settings)

    def set_job_state(self, job_name: str, state: str) -> None:
        self.run.control.set_state(self.unit, job_name, state)


def planned_duration(profile: Profile) -> float | None:
    """When the last action falls due, in seconds; None when a when or an endless repeat makes it open."""
    latest = 0.0

    def visit(actions: list[Action], base: float) -> bool:
        nonlocal latest
        for action in actions:
            at = base + action.at
            latest = max(latest, at)
            if action.type == "when":
                return False
            if action.type == "repeat":
                if action.max_time is None or not action.every:
                    return False
                loops = 0
                while True:
                    if not visit([c for c in action.children if c.at <= action.every], at + loops * action.every):
                        return False
                    loops += 1
                    if loops * action.every >= action.max_time or loops > 100_000:
                        break
        return True

    for block in profile.blocks():
        if not visit(block.actions, 0.0):
            return None
    return latest


def execute(profile: Profile, filename: str, experiment: str) -> int:
    """Run ``profile`` in ``experiment`` on this unit until it finishes or is stopped; the exit code."""
    run_id = secrets.token_hex(3)
    job_class = type("ProfileRun", (ProfileRun,), {"job_name": f"experiment_profile/{run_id}"})
    run = job_class(get_unit_name(), experiment, profile=profile, filename=filename, run_id=run_id)
    try:
        run.execute()
    except KeyboardInterrupt:
        pass
    finally:
        run.clean_up(reason="finished" if run.finished else "stopped")
        run.block_until_disconnected()
    return int(run.exit_code)

"""``--dry-run``: the timeline a profile would follow, printed instead of carried out.

Expressions that need nothing live (inputs, ``unit()``, arithmetic) are shown with their value;
those reading MQTT are shown as written, to be evaluated when the action fires. Repeats are
unrolled (the first loops, then a summary); a when's actions are timed from the moment its
condition holds, which only the run can know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pioreactor.plugins_core.profiles.checks import LED_CHANNELS, LED_INTENSITY
from pioreactor.plugins_core.profiles.control import cli_arguments
from pioreactor.plugins_core.profiles.durations import format_duration
from pioreactor.plugins_core.profiles.evaluate import (
    Environment,
    ExpressionError,
    Template,
    evaluate,
    evaluate_template,
    format_value,
)
from pioreactor.plugins_core.profiles.executor import PLUGIN_PRIORITY, PRIORITY
from pioreactor.plugins_core.profiles.model import Action, JobBlock, Profile

SHOWN_LOOPS = 5


@dataclass
class Row:
    at: float
    after_when: float | None  # seconds after a when's condition held (None: on the main timeline)
    priority: int
    step: int
    unit: str
    job: str
    text: str
    depth: int = 0

    def time_text(self) -> str:
        if self.after_when is None:
            return format_duration(self.at)
        return f"(when)+{format_duration(self.after_when)}"


class _Planner:
    def __init__(self, profile: Profile, experiment: str, interfaces: Any) -> None:
        self.profile = profile
        self.experiment = experiment
        self.interfaces = interfaces
        self.rows: list[Row] = []

    def env(self, unit: str, job: str, at: float) -> Environment:
        return Environment(unit, job, self.experiment, self.profile.inputs, hours_elapsed=lambda: at / 3600.0)

    def show(self, value: Any, env: Environment) -> Any:
        """A value as far as it is known before the run: live values stay as written."""
        if not isinstance(value, Template):
            return value
        try:
            return evaluate_template(value, env)
        except ExpressionError:
            if value.is_expression:
                return value.text
        pieces = [value.literals[0]]
        for part, literal in zip(value.parts, value.literals[1:], strict=True):
            try:
                pieces.append(format_value(evaluate(part.tree, env)))
            except ExpressionError:
                pieces.append(f"${{{{ {part.source} }}}}")
            pieces.append(literal)
        return "".join(pieces)

    def condition_text(self, label: str, condition: Any, env: Environment) -> str:
        if condition is None:
            return ""
        if isinstance(condition, bool):
            return f" [{label} {str(condition).lower()}]"
        value = self.show(condition, env)
        if isinstance(value, str) and value == condition.text:
            return f" [{label} {condition.text.strip()}]"
        return f" [{label} {condition.text.strip()} = {format_value(value).lower()}]"

    def describe(self, unit: str, block: JobBlock, action: Action, env: Environment) -> str:
        kind = action.type
        options = {key: self.show(value, env) for key, value in action.options.items()}
        if kind == "start" or (block.name == LED_INTENSITY and kind in ("update", "pause", "stop")):
            if block.name == LED_INTENSITY and kind in ("pause", "stop"):
                options = dict.fromkeys(LED_CHANNELS, 0)
            try:
                arguments = cli_arguments(self.interfaces(block.name, options), options)
            except Exception:
                arguments = cli_arguments(None, options)
            overrides = "".join(f" --config-override {s} {k} {format_value(self.show(v, env))}" for s, k, v in action.config_overrides)
            return f"{kind}: pio run{overrides} {block.name} {' '.join(arguments + action.args)}".rstrip()
        if kind == "update":
            return "update " + ", ".join(f"{k}={format_value(v)}" for k, v in options.items())
        if kind == "log":
            message = self.show(action.message, env) if action.message is not None else ""
            return f"log ({action.level}): {message}"
        if kind in ("pause", "resume", "stop"):
            return kind
        return f"{kind} (a plugin's action) " + ", ".join(f"{k}={format_value(v)}" for k, v in options.items())

    def add(self, unit: str, block: JobBlock, action: Action, at: float, after_when: float | None, depth: int, text: str) -> None:
        # a repeat or when comes before the actions it holds
        priority = -1 if action.type in ("repeat", "when") else PRIORITY.get(action.type, PLUGIN_PRIORITY)
        self.rows.append(Row(at, after_when, priority, action.step, unit, block.name, text, depth))

    def plan(self, unit: str, block: JobBlock, actions: list[Action], base: float, after_when: float | None, depth: int, loop: str = "") -> None:
        for action in actions:
            at = base + action.at
            when_at = None if after_when is None else after_when + action.at
            env = self.env(unit, block.name, at)
            condition = self.condition_text("if", action.condition, env)
            if action.type == "repeat":
                self.repeat(unit, block, action, at, when_at, depth, condition)
            elif action.type == "when":
                waiting = self.condition_text("until", action.wait_until, env).strip(" []")
                self.add(unit, block, action, at, when_at, depth, f"when: wait {waiting or 'forever'}{condition}")
                self.plan(unit, block, action.children, at, 0.0 if after_when is None else when_at, depth + 1)
            else:
                self.add(unit, block, action, at, when_at, depth, self.describe(unit, block, action, env) + condition + loop)

    def repeat(self, unit: str, block: JobBlock, action: Action, at: float, when_at: float | None, depth: int, condition: str) -> None:
        every = action.every or 0.0
        env = self.env(unit, block.name, at)
        while_text = self.condition_text("while", action.while_, env)
        if action.max_time is not None and every > 0:
            loops = max(1, -(-action.max_time // every))
            span = f"up to {format_duration(action.max_time)}: {int(loops)} loop(s)"
        else:
            loops = None
            span = "until the profile is stopped"
        self.add(unit, block, action, at, when_at, depth, f"repeat every {format_duration(every)}, {span}{while_text}{condition}")
        shown = SHOWN_LOOPS if loops is None else int(min(loops, SHOWN_LOOPS))
        children = [child for child in action.children if child.at <= every]
        for loop in range(shown):
            start = at + loop * every
            inner_when = None if when_at is None else when_at + loop * every
            self.plan(unit, block, children, start, inner_when, depth + 1, f"  (loop {loop + 1})")
        if loops is None or loops > shown:
            rest = "and so on" if loops is None else f"{int(loops) - shown} more loop(s), the last at {format_duration(at + (loops - 1) * every)}"
            self.rows.append(Row(at + shown * every, None if when_at is None else when_at + shown * every, 9, action.step, unit, block.name, f"... {rest}", depth + 1))


def plan(profile: Profile, experiment: str, units: list[str], this_unit: str, interfaces: Any) -> tuple[list[Row], list[str]]:
    """Rows of the timeline, sorted; and notes (units that would be skipped)."""
    planner = _Planner(profile, experiment, interfaces)
    notes = []
    for block in profile.common:
        for unit in units:
            planner.plan(unit, block, block.actions, 0.0, None, 0)
    for unit, blocks in profile.units.items():
        if unit != this_unit:
            notes.append(f"{unit} is not this unit ({this_unit}): its actions are skipped on a single-unit setup.")
            continue
        for block in blocks:
            planner.plan(unit, block, block.actions, 0.0, None, 0)
    rows = sorted(planner.rows, key=lambda r: (r.after_when is not None, r.at, r.after_when or 0.0, r.priority, r.step))
    return rows, notes


def render(profile: Profile, filename: str, experiment: str, units: list[str], this_unit: str, interfaces: Any) -> str:
    rows, notes = plan(profile, experiment, units, this_unit, interfaces)
    lines = [
        f"Dry run of profile {profile.name!r} ({filename}) in experiment {experiment!r}: nothing is started.",
        "",
    ]
    width_unit = max([len("unit"), *(len(r.unit) for r in rows)])
    width_job = max([len("job"), *(len(r.job) for r in rows)])
    width_time = max([len("time"), *(len(r.time_text()) for r in rows)])
    lines.append(f"{'time':<{width_time}}  {'step':>4}  {'unit':<{width_unit}}  {'job':<{width_job}}  action")
    for row in rows:
        lines.append(
            f"{row.time_text():<{width_time}}  {row.step:>4}  {row.unit:<{width_unit}}  {row.job:<{width_job}}  "
            + "  " * row.depth
            + row.text
        )
    if not rows:
        lines.append("(no actions)")
    lines.append("")
    lines += notes
    ends = [r.at for r in rows if r.after_when is None]
    open_ended = any(r.after_when is not None or r.text.startswith("... and so on") for r in rows)
    if ends and not open_ended:
        lines.append(f"The profile ends after {format_duration(max(ends))}.")
    elif rows:
        lines.append("The profile runs until its when conditions hold and its repeats end (or until it is stopped).")
    return "\n".join(lines)

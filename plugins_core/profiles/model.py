"""A profile as the executor sees it: times in seconds, expressions parsed, old spellings mapped.

Both formats load into the same model: ``hours_elapsed`` and ``t``, ``repeat_every_hours`` and
``every``, ``max_hours`` and ``max_time``, ``condition`` and ``wait_until``, and the old
``*_control`` job names (now ``*_automation``). Problems met on the way (a time that is not a
duration, both spellings at once, an expression that does not parse) are collected with their
position; the structure itself was checked by the JSON Schema before.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from pioreactor.plugins_core.profiles.durations import EXAMPLES, DurationError, parse_duration
from pioreactor.plugins_core.profiles.evaluate import Template, compile_condition, compile_template
from pioreactor.plugins_core.profiles.expressions import ExpressionSyntaxError
from pioreactor.plugins_core.profiles.problems import Problem
from pioreactor.plugins_core.profiles.source import Document, Path_

BUILTIN_TYPES = ("start", "stop", "pause", "resume", "update", "log", "repeat", "when")
BASIC_TYPES = ("start", "stop", "pause", "resume", "update", "log")
#: upstream removed the *_control controllers; their automations are jobs of their own now
RENAMED_JOBS = {
    "temperature_control": "temperature_automation",
    "dosing_control": "dosing_automation",
    "led_control": "led_automation",
}
DEFAULT_REPEAT_EVERY_SECONDS = 3600.0  # what the older format assumed without repeat_every_hours

Condition: TypeAlias = bool | Template | None


@dataclass
class Action:
    type: str
    path: Path_
    at: float = 0.0  # seconds after its parent's start (the profile's, a loop's, a when's moment)
    step: int = 0
    condition: Condition = None  # `if`
    options: dict[str, Any] = field(default_factory=dict)  # strings with ${{ }} are Templates
    args: list[str] = field(default_factory=list)
    config_overrides: list[tuple[str, str, Any]] = field(default_factory=list)
    # repeat
    every: float | None = None
    while_: Condition = None
    max_time: float | None = None
    # when
    wait_until: Condition = None
    # log
    message: Template | None = None
    level: str = "notice"
    children: list[Action] = field(default_factory=list)

    def walk(self) -> Iterator[Action]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class JobBlock:
    name: str  # as the executor uses it (*_control mapped to *_automation)
    written_name: str
    path: Path_
    unit: str | None  # None: the common block (every unit of the experiment)
    actions: list[Action] = field(default_factory=list)
    description: str | None = None


@dataclass
class Profile:
    name: str
    document: Document
    version: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    plugins: list[tuple[str, str, Path_]] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)
    common: list[JobBlock] = field(default_factory=list)
    units: dict[str, list[JobBlock]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    #: every compiled template with where it is, for checks of names and functions
    templates: list[tuple[Path_, Template]] = field(default_factory=list)

    @property
    def legacy(self) -> bool:
        return self.version is None

    def blocks(self) -> Iterator[JobBlock]:
        yield from self.common
        for blocks in self.units.values():
            yield from blocks

    def actions(self) -> Iterator[tuple[JobBlock, Action]]:
        for block in self.blocks():
            for action in block.actions:
                for each in action.walk():
                    yield block, each

    def action_count(self) -> int:
        return sum(1 for _ in self.actions())


class _Builder:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.problems: list[Problem] = []
        self.templates: list[tuple[Path_, Template]] = []
        self.legacy = True
        self.action_types: tuple[str, ...] = ()

    def problem(self, code: str, message: str, path: Path_, hint: str = "", *, key: bool = False, severity: str = "error") -> None:
        self.problems.append(
            Problem(code, message, self.document.position(path, key=key), hint, "warning" if severity == "warning" else "error")
        )

    # -- values --------------------------------------------------------------------------
    def duration(self, value: Any, path: Path_, *, positive: bool = False) -> float | None:
        try:
            seconds = parse_duration(value)
        except DurationError as err:
            hint = EXAMPLES if err.code == "time.invalid" else "use 0 for the start, or a later time"
            self.problem(err.code, f"{path[-1]}: {err}", path, hint)
            return None
        if positive and seconds <= 0:
            self.problem("time.non_positive", f"{path[-1]} must be longer than 0", path, "a loop needs a period, e.g. every: 30m")
            return None
        return seconds

    def hours(self, value: Any, path: Path_, *, positive: bool = False) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(
                "time.invalid",
                f"{path[-1]} is a number of hours, not {value!r}",
                path,
                f"write a number ({path[-1]}: 0.5), or use the newer field with units (30s, 2m, 1.5h)",
            )
            return None
        return self.duration(float(value), path, positive=positive)

    def template(self, text: str, path: Path_) -> Template | str:
        try:
            template = compile_template(text)
        except ExpressionSyntaxError as err:
            self.syntax_problem(err, path)
            return text
        if template.has_expressions:
            self.templates.append((path, template))
            return template
        return text

    def condition(self, value: Any, path: Path_) -> Condition:
        if value is None:
            return None
        if not isinstance(value, (bool, str)):
            return None  # the schema reported it
        try:
            condition = compile_condition(value)
        except ExpressionSyntaxError as err:
            self.syntax_problem(err, path)
            return None
        if isinstance(condition, Template):
            self.templates.append((path, condition))
        return condition

    def syntax_problem(self, err: ExpressionSyntaxError, path: Path_) -> None:
        self.problems.append(
            Problem(
                "expression.syntax",
                f"the expression in {path[-1]} does not parse: {err}",
                self.document.expression_position(path, err.offset),
                err.hint or "expressions use numbers, true/false, names, + - * / **, comparisons, and/or/not, "
                "functions like unit(), and live values like ::stirring:target_rpm",
            )
        )

    def options(self, value: Any, path: Path_) -> dict[str, Any]:
        if not isinstance(value, dict):
            return {}
        return {
            key: self.template(item, (*path, key)) if isinstance(item, str) else item for key, item in value.items()
        }

    # -- actions -------------------------------------------------------------------------
    def action(self, raw: Any, path: Path_, allowed: tuple[str, ...]) -> Action | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            return None
        kind = raw["type"]
        if kind not in allowed and kind not in self.action_types:
            return None  # the schema reported it (an unknown type, a repeat inside a repeat)
        action = Action(kind, path)
        has_t, has_hours = "t" in raw, "hours_elapsed" in raw
        if has_t and has_hours:
            self.problem(
                "action.time.conflict",
                f"this {kind} action has both t and hours_elapsed",
                (*path, "hours_elapsed"),
                "keep one: t (30s, 2m, 1.5h) or the older hours_elapsed (hours)",
                key=True,
            )
        elif not (has_t or has_hours):
            self.problem(
                "action.time.missing",
                f"this {kind} action has no time",
                (*path, "type"),
                "add t: 0s (or the older hours_elapsed: 0.0) to say when it fires",
            )
        if has_t:
            action.at = self.duration(raw["t"], (*path, "t")) or 0.0
        elif has_hours:
            action.at = self.hours(raw["hours_elapsed"], (*path, "hours_elapsed")) or 0.0
        action.condition = self.condition(raw.get("if"), (*path, "if"))
        if kind in ("start", "update") or kind not in BUILTIN_TYPES:
            action.options = self.options(raw.get("options"), (*path, "options"))
        if kind == "start":
            args = raw.get("args")
            action.args = [str(a) for a in args] if isinstance(args, list) else []
            action.config_overrides = self.config_overrides(raw.get("config_overrides"), (*path, "config_overrides"))
        elif kind == "log":
            raw_options = raw.get("options")
            options: dict[str, Any] = raw_options if isinstance(raw_options, dict) else {}
            message = options.get("message")
            if isinstance(message, str):
                try:
                    action.message = compile_template(message)
                except ExpressionSyntaxError as err:
                    self.syntax_problem(err, (*path, "options", "message"))
                else:
                    if action.message.has_expressions:
                        self.templates.append(((*path, "options", "message"), action.message))
            level = options.get("level")
            action.level = level.lower() if isinstance(level, str) else "notice"
        elif kind == "repeat":
            self.repeat(raw, action, path)
        elif kind == "when":
            self.when(raw, action, path)
        return action

    def repeat(self, raw: dict[str, Any], action: Action, path: Path_) -> None:
        if "every" in raw and "repeat_every_hours" in raw:
            self.problem(
                "repeat.every.ambiguous",
                "this repeat has both every and repeat_every_hours",
                (*path, "repeat_every_hours"),
                "keep one: every (30m, 2h) or the older repeat_every_hours (hours)",
                key=True,
            )
        if "every" in raw:
            action.every = self.duration(raw["every"], (*path, "every"), positive=True)
        elif "repeat_every_hours" in raw:
            action.every = self.hours(raw["repeat_every_hours"], (*path, "repeat_every_hours"), positive=True)
        else:
            severity = "warning" if self.legacy else "error"
            self.problem(
                "repeat.every.missing",
                "this repeat does not say how often it repeats"
                + (": the older format's default, every hour, applies" if self.legacy else ""),
                (*path, "type"),
                "add every: 1h (or the older repeat_every_hours: 1.0)",
                severity=severity,
            )
            action.every = DEFAULT_REPEAT_EVERY_SECONDS if self.legacy else None
        if "max_time" in raw and "max_hours" in raw:
            self.problem(
                "repeat.max_time.ambiguous",
                "this repeat has both max_time and max_hours",
                (*path, "max_hours"),
                "keep one: max_time (12h) or the older max_hours (hours)",
                key=True,
            )
        if raw.get("max_time") is not None:
            action.max_time = self.duration(raw["max_time"], (*path, "max_time"))
        elif raw.get("max_hours") is not None:
            action.max_time = self.hours(raw["max_hours"], (*path, "max_hours"))
        action.while_ = self.condition(raw.get("while"), (*path, "while"))
        action.children = self.actions(raw.get("actions"), (*path, "actions"), BASIC_TYPES)

    def when(self, raw: dict[str, Any], action: Action, path: Path_) -> None:
        has_new, has_old = "wait_until" in raw, "condition" in raw
        if has_new and has_old:
            self.problem(
                "when.condition.ambiguous",
                "this when has both wait_until and condition",
                (*path, "condition"),
                "keep one: wait_until (or the older condition)",
                key=True,
            )
        elif not (has_new or has_old):
            self.problem(
                "when.condition.missing",
                "this when has nothing to wait for",
                (*path, "type"),
                "add wait_until: ${{ ... }}, e.g. wait_until: ${{ ::od_reading:od1.od > 0.5 }}",
            )
        field_name = "wait_until" if has_new else "condition"
        action.wait_until = self.condition(raw.get(field_name), (*path, field_name))
        action.children = self.actions(raw.get("actions"), (*path, "actions"), BUILTIN_TYPES)

    def config_overrides(self, value: Any, path: Path_) -> list[tuple[str, str, Any]]:
        found = self._config_overrides(value, path)
        from pioreactor.sdk import protected_config_reason

        allowed = []
        for section, key, setting in found:
            reason = protected_config_reason(section, key)
            if reason:
                where = (*path, section) if isinstance(value, dict) and section in value else path
                self.problem("start.config_overrides.protected", f"config override {section}.{key}: {reason}", where,
                             "set it in the unit's config.ini instead", key=True)
            else:
                allowed.append((section, key, setting))
        return allowed

    def _config_overrides(self, value: Any, path: Path_) -> list[tuple[str, str, Any]]:
        if not isinstance(value, dict):
            return []
        found: list[tuple[str, str, Any]] = []
        for key, item in value.items():
            if isinstance(item, dict):  # {section: {key: value}}
                for name, setting in item.items():
                    where = (*path, key, name)
                    found.append((str(key), str(name), self.template(setting, where) if isinstance(setting, str) else setting))
            elif isinstance(key, str) and "." in key:  # {"section.key": value}
                section, _, name = key.rpartition(".")
                found.append((section, name, self.template(item, (*path, key)) if isinstance(item, str) else item))
            else:
                self.problem(
                    "start.config_overrides.invalid",
                    f"config override {key!r} names no section",
                    (*path, key),
                    "write {section: {key: value}}, e.g. stirring.config: {pwm_hz: 100}",
                    key=True,
                )
        return found

    def actions(self, raw: Any, path: Path_, allowed: tuple[str, ...]) -> list[Action]:
        if not isinstance(raw, list):
            return []
        built = [self.action(item, (*path, index), allowed) for index, item in enumerate(raw)]
        return [action for action in built if action is not None]

    def jobs(self, raw: Any, path: Path_, unit: str | None) -> list[JobBlock]:
        if not isinstance(raw, dict):
            return []
        blocks = []
        for written, job in raw.items():
            if not isinstance(job, dict):
                continue
            written = str(written)
            name = RENAMED_JOBS.get(written, written)
            block = JobBlock(name, written, (*path, written), unit, description=job.get("description"))
            if name != written:
                self.problem(
                    "job.renamed",
                    f"{written} is now called {name}",
                    (*path, written),
                    f"rename it to {name}; it runs as {name}",
                    key=True,
                    severity="warning",
                )
            block.actions = self.actions(job.get("actions"), (*path, written, "actions"), BUILTIN_TYPES)
            blocks.append(block)
        return blocks


def build_profile(document: Document, action_types: list[str] | tuple[str, ...] = ()) -> tuple[Profile, list[Problem]]:
    """The model of a loaded document, and the problems met building it (``action_types``: those
    that plugins registered)."""
    data = document.data if isinstance(document.data, dict) else {}
    builder = _Builder(document)
    builder.action_types = tuple(action_types)
    version = data.get("version")
    builder.legacy = version is None
    name = data.get("experiment_profile_name")
    profile = Profile(
        name if isinstance(name, str) else "(unnamed)",
        document,
        version=None if version is None else str(version),
    )
    if isinstance(data.get("metadata"), dict):
        profile.metadata = dict(data["metadata"])
    for index, plugin in enumerate(data.get("plugins") or []):
        if isinstance(plugin, dict) and isinstance(plugin.get("name"), str) and plugin.get("version") is not None:
            profile.plugins.append((plugin["name"], str(plugin["version"]), ("plugins", index)))
    if isinstance(data.get("inputs"), dict):
        profile.inputs = {
            str(k): float(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in data["inputs"].items()
        }
    common = data.get("common")
    if isinstance(common, dict):
        profile.common = builder.jobs(common.get("jobs"), ("common", "jobs"), None)
    units = data.get("pioreactors")
    if isinstance(units, dict):
        for unit, block in units.items():
            if not isinstance(block, dict):
                continue
            unit = str(unit)
            bad_name = _unit_name_problem(unit)
            if bad_name:
                builder.problem("unit.invalid_name", bad_name, ("pioreactors", unit), key=True)
                continue
            profile.units[unit] = builder.jobs(block.get("jobs"), ("pioreactors", unit, "jobs"), unit)
            if isinstance(block.get("label"), str):
                profile.labels[unit] = block["label"]
    profile.templates = builder.templates
    # steps count the actions in the order they appear in the file
    ordered = sorted(
        (action for _, action in profile.actions()),
        key=lambda a: (document.position(a.path).line, document.position(a.path).column),
    )
    for step, action in enumerate(ordered, start=1):
        action.step = step
    return profile, builder.problems


def _unit_name_problem(unit: str) -> str | None:
    from pioreactor.sdk import InvalidNameError, check_unit_name

    try:
        check_unit_name(unit)
    except InvalidNameError as err:
        return str(err)
    return None


"""Checks that need to know what is installed: jobs and their options and settings, automations,
plugins and their versions, expression functions; and checks of the timeline (an update before
its job starts, repeat children that never run).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator
from typing import Any

from pioreactor.plugins_core.profiles import interfaces
from pioreactor.plugins_core.profiles.durations import format_duration
from pioreactor.plugins_core.profiles.evaluate import BUILTIN_FUNCTIONS, Template
from pioreactor.plugins_core.profiles.expressions import Call, Name, walk
from pioreactor.plugins_core.profiles.interfaces import JobInterface
from pioreactor.plugins_core.profiles.model import Action, JobBlock, Profile
from pioreactor.plugins_core.profiles.problems import Problem
from pioreactor.sdk import plugins as sdk_plugins

#: the one-shot LED action takes channel intensities; pause/stop/update map onto it (as upstream)
LED_INTENSITY = "led_intensity"
LED_CHANNELS = ("A", "B", "C", "D")
STATE_WORDS = frozenset({"ready", "sleeping", "disconnected", "lost", "init"})
ACTION_VERBS = {"update": "update", "pause": "pause", "resume": "resume", "stop": "stop"}


class Catalog:
    """What this unit has installed, asked lazily and remembered (one profile check, one catalog)."""

    def __init__(self) -> None:
        self._interfaces: dict[str, JobInterface | None] = {}
        self._automations: dict[tuple[str, str], JobInterface | None] = {}
        self._load_errors: dict[str, str] = {}

    def job_names(self) -> list[str]:
        return sorted(sdk_plugins.registered_jobs())

    def job(self, name: str) -> JobInterface | None:
        if name not in self._interfaces:
            try:
                self._interfaces[name] = interfaces.job_interface(name)
            except Exception as err:  # a plugin whose job cannot even be imported
                self._load_errors[name] = f"{type(err).__name__}: {err}"
                self._interfaces[name] = None
        return self._interfaces[name]

    def load_error(self, name: str) -> str | None:
        return self._load_errors.get(name)

    def automation_names(self, kind: str) -> list[str]:
        return sorted(sdk_plugins.automations_of_kind(kind))

    def automation(self, kind: str, name: str) -> JobInterface | None:
        key = (kind, name)
        if key not in self._automations:
            try:
                self._automations[key] = interfaces.automation_interface(kind, name)
            except Exception:
                self._automations[key] = None
        return self._automations[key]

    def action_types(self) -> list[str]:
        return sorted(sdk_plugins.profile_actions())

    def functions(self) -> list[str]:
        return sorted(sdk_plugins.expression_functions())

    def plugin_versions(self) -> dict[str, str | None]:
        return sdk_plugins.installed_plugin_versions()


def _close(word: str, choices: list[str]) -> str:
    matches = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean {matches[0]}? " if matches else ""


class _Checker:
    def __init__(self, profile: Profile, catalog: Catalog) -> None:
        self.profile = profile
        self.document = profile.document
        self.catalog = catalog
        self.problems: list[Problem] = []

    def add(self, code: str, message: str, path: tuple[Any, ...], hint: str = "", *, key: bool = False, warning: bool = False) -> None:
        position = self.document.position(path, key=key)
        self.problems.append(Problem(code, message, position, hint, "warning" if warning else "error"))

    # -- plugins -------------------------------------------------------------------------
    def plugins(self) -> None:
        if not self.profile.plugins:
            return
        installed = self.catalog.plugin_versions()
        for name, spec, path in self.profile.plugins:
            try:
                matches = version_matcher(spec)
            except ValueError as err:
                self.add("plugin.version.invalid", f"plugin {name}: {err}", (*path, "version"), 'write 1.2.3, ">=1.2.3", "<2" or ">=1.0,<2"')
                continue
            key = sdk_plugins.normalise_plugin_name(name)
            if key not in installed:
                close = _close(key, list(installed))
                self.add(
                    "plugin.missing",
                    f"the profile needs plugin {name}, which is not installed",
                    (*path, "name"),
                    f"{close}install it (pio plugins install {name}) or remove it from plugins:",
                )
                continue
            version = installed[key]
            if version is not None and not matches(version):
                self.add(
                    "plugin.version.mismatch",
                    f"the profile needs {name} {spec}, and {version} is installed",
                    (*path, "version"),
                    f"install a version matching {spec}, or change the profile's version spec",
                )

    # -- expressions ---------------------------------------------------------------------
    def expressions(self) -> None:
        functions = set(BUILTIN_FUNCTIONS) | set(self.catalog.functions())
        inputs = set(self.profile.inputs)
        for path, template in self.profile.templates:
            for part in template.parts:
                for node in walk(part.tree):
                    position = self.document.expression_position(path, part.offset + node.offset)
                    if isinstance(node, Call) and node.function not in functions:
                        self.problems.append(
                            Problem(
                                "expression.unknown_function",
                                f"there is no function {node.function}() (in {path[-1]})",
                                position,
                                f"{_close(node.function, sorted(functions))}functions: {', '.join(sorted(functions))}",
                            )
                        )
                    elif isinstance(node, Call) and node.function in BUILTIN_FUNCTIONS and node.args:
                        self.problems.append(
                            Problem("expression.arguments", f"{node.function}() takes no arguments", position, f"write {node.function}()")
                        )
                    elif isinstance(node, Name) and node.name not in inputs and node.name != "hours_elapsed" and node.name.lower() not in STATE_WORDS:
                        self.problems.append(
                            Problem(
                                "expression.unknown_name",
                                f"{node.name} is not an input, so it is the text {node.name!r} (in {path[-1]})",
                                position,
                                (f"{_close(node.name, sorted(inputs))}" if inputs else "")
                                + "declare it under inputs:, or write a function call like unit()",
                                "warning",
                            )
                        )

    # -- jobs ----------------------------------------------------------------------------
    def jobs(self) -> None:
        names = self.catalog.job_names()
        for block in self.profile.blocks():
            interface = self.catalog.job(block.name)
            if interface is None:
                error = self.catalog.load_error(block.name)
                if error:
                    self.add("job.broken", f"job {block.name} cannot be loaded: {error}", block.path, "reinstall the plugin that provides it", key=True)
                else:
                    hint = _close(block.name, names) or "a plugin may provide it: list it under plugins: and install it. "
                    self.add("job.unknown", f"no job named {block.written_name} is installed", block.path, hint + "`pio run --help` lists the jobs", key=True)
                continue
            automation: JobInterface | None = None
            for action in _in_time_order(block.actions):
                if action.type == "start":
                    automation = self.start(block, interface, action) or automation
                elif action.type == "update":
                    self.update(block, interface, automation, action)
                elif action.type in ("pause", "resume", "stop") and not interface.long_running:
                    if block.name == LED_INTENSITY and action.type != "resume":
                        continue
                    self.add(
                        "job.not_long_running",
                        f"{action.type} has no effect on {block.name}: it is a one-shot action, not a running job",
                        action.path,
                        f"remove this {action.type}",
                        warning=True,
                    )

    def start(self, block: JobBlock, interface: JobInterface, action: Action) -> JobInterface | None:
        options = action.options
        if interface.automation_kind is not None:
            kind = interface.automation_kind
            name = options.get("automation_name")
            available = self.catalog.automation_names(kind)
            if name is None:
                self.add(
                    "automation.missing_name",
                    f"starting {block.name} needs options.automation_name",
                    action.path,
                    f"add options: {{automation_name: ...}}; {kind} automations: {', '.join(available)}",
                )
                return None
            if isinstance(name, Template):
                return None  # decided at run time
            automation = self.catalog.automation(kind, str(name))
            if automation is None:
                self.add(
                    "automation.unknown",
                    f"no {kind} automation named {name!r}",
                    (*action.path, "options", "automation_name"),
                    f"{_close(str(name), available)}{kind} automations: {', '.join(available) or 'none installed'}",
                )
                return None
            interface = automation
        self.options(block, interface, action)
        return interface if interface.automation_kind else None

    def options(self, block: JobBlock, interface: JobInterface, action: Action) -> None:
        keys = sorted({info.key for info in interface.options.values()})
        for key in action.options:
            if interface.option(str(key)) is None:
                self.add(
                    "job.unknown_option",
                    f"{block.name} has no option {key!r}",
                    (*action.path, "options", key),
                    f"{_close(str(key), keys)}options of {interface.name}: {', '.join(keys) or 'none'}",
                    key=True,
                )
        given = {interface.option(str(k)) for k in action.options}
        for info in {i for i in interface.options.values() if i.required}:
            if info not in given and info.key != "automation_name":
                self.add("job.missing_option", f"starting {block.name} needs option {info.key}", action.path, f"add options: {{{info.key}: ...}}")

    def update(self, block: JobBlock, interface: JobInterface, automation: JobInterface | None, action: Action) -> None:
        if block.name == LED_INTENSITY:  # an update sets channels, as a start would
            self.options(block, interface, action)
            return
        if not interface.long_running:
            self.add(
                "job.not_long_running",
                f"update has no effect on {block.name}: it is a one-shot action, not a running job",
                action.path,
                "start it again with the new options instead",
                warning=True,
            )
            return
        settings = (automation or interface).settings
        for key in action.options:
            path = (*action.path, "options", key)
            if key == "automation_name" and interface.automation_kind:
                self.add(
                    "update.automation_name",
                    "update cannot switch the automation: automation_name is ignored here",
                    path,
                    "stop the automation, then start it with the new automation_name",
                    key=True,
                    warning=True,
                )
                continue
            if settings is None:
                continue
            spec = settings.get(str(key))
            settable = sorted(name for name, s in settings.items() if s.get("settable") and name != "$state")
            if spec is None:
                self.add(
                    "job.unknown_setting",
                    f"{(automation or interface).name} has no setting {key!r}",
                    path,
                    f"{_close(str(key), sorted(settings))}settings you can update: {', '.join(settable) or 'none'}",
                    key=True,
                )
            elif not spec.get("settable"):
                self.add(
                    "job.read_only_setting",
                    f"{key} of {block.name} is read-only",
                    path,
                    f"settings you can update: {', '.join(settable) or 'none'}",
                    key=True,
                )

    # -- the timeline --------------------------------------------------------------------
    def ordering(self) -> None:
        starts: dict[tuple[str | None, str], float] = {}
        for block in self.profile.blocks():
            for action, at, _ in _timed(block.actions):
                if action.type == "start":
                    key = (block.unit, block.name)
                    starts[key] = min(starts.get(key, math.inf), at)
        for block in self.profile.blocks():
            if block.name == LED_INTENSITY:
                continue
            interface = self.catalog.job(block.name)
            if interface is None or not interface.long_running:
                continue
            if block.unit is None:  # a common job: a start in any block may serve
                first = min((at for (unit, job), at in starts.items() if job == block.name), default=math.inf)
            else:
                first = min(starts.get((block.unit, block.name), math.inf), starts.get((None, block.name), math.inf))
            for action, at, exact in _timed(block.actions):
                if action.type not in ACTION_VERBS or not exact or at >= first:
                    continue
                if math.isinf(first):
                    message = f"{block.name} is never started by this profile: this {action.type} expects it running already"
                    hint = f"add a start of {block.name} before it, or start {block.name} yourself before the profile"
                else:
                    message = f"this {action.type} of {block.name} at {format_duration(at)} comes before its start at {format_duration(first)}"
                    hint = f"move the {action.type} after the start (t later than {format_duration(first)})"
                self.add("job.ordering.before_start", message, action.path, hint, warning=True)

    def repeats(self) -> None:
        for _, action in self.profile.actions():
            if action.type != "repeat" or action.every is None:
                continue
            for child in action.children:
                if child.at > action.every:
                    self.add(
                        "repeat.unreachable_action",
                        f"this {child.type} at {format_duration(child.at)} never runs: each loop of the repeat lasts {format_duration(action.every)}",
                        child.path,
                        "give it a t no later than the repeat's every, or repeat less often",
                        warning=True,
                    )


def _in_time_order(actions: list[Action]) -> list[Action]:
    return [action for action, _, _ in sorted(_timed(actions), key=lambda item: (item[1], item[0].step))]


def _timed(actions: list[Action], offset: float = 0.0, exact: bool = True) -> Iterator[tuple[Action, float, bool]]:
    """(action, earliest time from the profile's start, whether that time is certain)."""
    for action in actions:
        at = offset + action.at
        yield action, at, exact
        if action.type == "repeat":
            yield from _timed(action.children, at, exact)
        elif action.type == "when":
            yield from _timed(action.children, at, False)


def semantic_problems(profile: Profile, catalog: Catalog) -> list[Problem]:
    checker = _Checker(profile, catalog)
    checker.plugins()
    checker.expressions()
    checker.jobs()
    checker.ordering()
    checker.repeats()
    return checker.problems


# -- version specs -------------------------------------------------------------------------
_SIMPLE = re.compile(r"^\s*(==|>=|<=|>|<|!=|~=)?\s*v?([0-9][0-9A-Za-z.+-]*)\s*$")


def version_matcher(spec: str) -> Any:
    """A predicate on version strings for ``1.2.3``, ``>=1.2.3``, ``<2``, or a PEP 440 specifier set."""
    spec = spec.strip()
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.version import InvalidVersion, Version
    except ImportError:  # packaging is not a dependency: a simpler comparison without it
        return _simple_matcher(spec)
    text = spec if spec[:1] in "<>=!~" else f"=={spec}"
    try:
        specifiers = SpecifierSet(text)
    except InvalidSpecifier:
        raise ValueError(f"{spec!r} is not a version or version range") from None

    def matches(version: str) -> bool:
        try:
            return Version(version) in specifiers or specifiers.contains(version, prereleases=True)
        except InvalidVersion:
            return True  # an installed version we cannot read: do not block the profile on it

    return matches


def _simple_matcher(spec: str) -> Any:
    parts = [p for p in spec.split(",") if p.strip()]
    checks = []
    for part in parts:
        match = _SIMPLE.match(part)
        if match is None:
            raise ValueError(f"{spec!r} is not a version or version range")
        checks.append((match[1] or "==", _as_tuple(match[2])))

    def matches(version: str) -> bool:
        have = _as_tuple(version)
        results = {
            "==": lambda want: have == want,
            ">=": lambda want: have >= want,
            "<=": lambda want: have <= want,
            ">": lambda want: have > want,
            "<": lambda want: have < want,
            "!=": lambda want: have != want,
            "~=": lambda want: have >= want,
        }
        return all(results[op](want) for op, want in checks)

    return matches


def _as_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version)[:4])

"""Checking a profile: YAML, then the JSON Schema (``schema.json``), then the model and the
semantic checks. Every problem points at a line and column of the file, with a hint.
"""

from __future__ import annotations

import copy
import difflib
import json
from functools import cache
from pathlib import Path
from typing import Any

from pioreactor.plugins_core.profiles.model import BASIC_TYPES, BUILTIN_TYPES, Profile, build_profile
from pioreactor.plugins_core.profiles.problems import Problem, ProfileError, sort_problems
from pioreactor.plugins_core.profiles.source import Document, Path_, YAMLSyntaxError, load

SCHEMA_PATH = Path(__file__).with_name("schema.json")

FIELD_HINTS = {
    "labels": "labels moved: give each unit its label under pioreactors.<unit>.label.",
    "stop_on_exit": "stop_on_exit was removed: jobs a profile started are stopped when the profile is stopped early.",
}
REQUIRED_HINTS = {
    "experiment_profile_name": "add a name at the top, e.g. experiment_profile_name: my experiment",
    "type": "every action starts with its type: " + ", ".join(BUILTIN_TYPES),
    "actions": "list the job's actions under actions:",
    "options": "a log action needs options: {message: ...}",
    "message": "add message: the text to log",
    "name": "a plugin entry needs name: and version:",
    "version": 'a plugin entry needs name: and version:, e.g. version: ">=0.2.0"',
}
EXPECTED = {
    "object": "a mapping (key: value lines)",
    "array": "a list (lines starting with -)",
    "string": "text",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}
# the fields of each action type, to say where a misplaced field belongs
ACTION_FIELDS = {
    "repeat": {"every", "repeat_every_hours", "while", "max_time", "max_hours", "actions"},
    "when": {"wait_until", "condition", "actions"},
    "start": {"options", "args", "config_overrides"},
    "update": {"options"},
    "log": {"options"},
}


@cache
def base_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def schema_with(action_types: list[str]) -> dict[str, Any]:
    """The schema, with action types that plugins registered allowed wherever basic actions are."""
    schema = base_schema()
    if not action_types:
        return schema
    schema = copy.deepcopy(schema)
    for definition in ("action", "basic_action"):
        entry = schema["$defs"][definition]
        entry["properties"]["type"]["enum"] += action_types
        entry["allOf"] += [
            {
                "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
                "then": {"$ref": "#/$defs/plugin_action"},
            }
            for kind in action_types
        ]
    return schema


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return f"the text {value!r}" if len(value) < 40 else "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "empty" if value is None else type(value).__name__


def _context(path: Path_, data: Any) -> str:
    """Where a path is, in words: 'in a start action', 'in job stirring', 'at the top of the profile'."""
    if not path:
        return "at the top of the profile"
    node = _at(data, path)
    if len(path) >= 2 and path[-2] == "actions" and isinstance(node, dict):
        return f"in a {node.get('type', 'typeless')} action"
    if len(path) >= 2 and path[-2] == "jobs":
        return f"in job {path[-1]}"
    if path[-1] == "options" and len(path) >= 3:
        parent = _at(data, path[:-1])
        kind = parent.get("type") if isinstance(parent, dict) else "the"
        return f"in the options of a {kind} action"
    if path[0] == "pioreactors" and len(path) == 2:
        return f"in pioreactors.{path[1]}"
    if path[0] == "plugins":
        return "in a plugin entry"
    return f"in {'.'.join(map(str, path))}"


def _at(data: Any, path: Path_) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _close(word: str, choices: Any) -> str:
    matches = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"did you mean {matches[0]}? " if matches else ""


def schema_problems(document: Document, action_types: list[str]) -> list[Problem]:
    import jsonschema

    data = document.data
    validator = jsonschema.Draft202012Validator(schema_with(action_types))
    problems: list[Problem] = []
    for error in validator.iter_errors(data):
        # times and "exactly one of t/hours_elapsed" get clearer messages from the model
        check = error.schema.get("x-profile-check") if isinstance(error.schema, dict) else None
        if check == "time" or (check == "action.time" and error.validator == "oneOf"):
            continue
        problems += _explain(error, document, data, action_types)
    return problems


def _explain(error: Any, document: Document, data: Any, action_types: list[str]) -> list[Problem]:
    path: Path_ = tuple(error.absolute_path)
    where = _context(path, data)
    validator = error.validator
    at = document.position(path)
    if validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extras = [key for key in error.instance if key not in allowed]
        problems = []
        for key in extras:
            hint = FIELD_HINTS.get(key) if not path else None
            if hint is None and path == ("common",):
                hint = f"jobs go under common.jobs: common: {{jobs: {{{key}: {{actions: [...]}}}}}}."
            if hint is None and len(path) == 2 and path[0] == "pioreactors":
                hint = f"jobs go under pioreactors.{path[1]}.jobs."
            if hint is None and isinstance(error.instance.get("type"), str):
                owners = [kind for kind, fields in ACTION_FIELDS.items() if key in fields]
                if owners:
                    hint = f"{key} belongs to {' and '.join(owners)} actions. "
            hint = (f"{hint} " if hint else _close(key, allowed)) + f"Allowed here: {', '.join(allowed)}."
            problems.append(
                Problem(
                    "schema.unknown_field",
                    f"unknown field {key!r} {where}",
                    document.position((*path, key), key=True),
                    hint.strip(),
                )
            )
        return problems
    if validator == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        missing = [key for key in error.validator_value if key not in present]
        return [
            Problem(
                "schema.missing_field",
                f"{key} is missing {where}",
                at,
                REQUIRED_HINTS.get(key, f"add {key}:"),
            )
            for key in missing
        ]
    if validator == "enum":
        field = path[-1] if path else ""
        value = error.instance
        if field == "type":
            inside_repeat = len(path) >= 4 and _at(data, path[:-3]) is not None and _is_repeat(_at(data, path[:-3]))
            if inside_repeat and value in ("repeat", "when"):
                return [
                    Problem(
                        "repeat.nested",
                        f"a repeat cannot contain a {value} action",
                        at,
                        "a repeat holds only " + ", ".join([*BASIC_TYPES, *action_types]) + "; a when may hold a repeat",
                    )
                ]
            choices = list(error.validator_value)
            return [
                Problem(
                    "action.type.unknown",
                    f"unknown action type {value!r}",
                    at,
                    f"{_close(value, choices)}Action types: {', '.join(choices)}.",
                )
            ]
        if field == "level":
            return [Problem("log.level.invalid", f"unknown log level {value!r}", at, "use debug, info, notice, warning or error")]
        if field == "version":
            return [
                Problem(
                    "profile.version.invalid",
                    f"unknown profile format version {value!r}",
                    at,
                    'write version: "1.0" (quoted), or leave version out for the older format',
                )
            ]
    if validator == "type":
        field = path[-1] if path else "the profile"
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        wanted = " or ".join(EXPECTED.get(str(e), str(e)) for e in expected)
        if not path:
            if error.instance is None:
                return [Problem("schema.empty", "the profile is empty", at, "start with experiment_profile_name: ...")]
            return [Problem("schema.type", "a profile is a mapping of fields", at, "start with experiment_profile_name: ...")]
        hint = "a condition is true, false, or an expression such as ${{ ::od_reading:od1.od > 1 }}" if field in (
            "if",
            "while",
            "wait_until",
            "condition",
        ) else ""
        return [
            Problem(
                "schema.type",
                f"{field} must be {wanted}, not {_type_name(error.instance)} ({where.removeprefix('in ')})",
                at,
                hint or f"{field} expects {wanted}",
            )
        ]
    if validator == "propertyNames":
        return [
            Problem(
                "schema.name",
                f"{error.instance!r} is not a valid name {where}",
                document.position((*path, error.instance), key=True),
                "names are letters, digits and underscores, not starting with a digit",
            )
        ]
    if validator == "minLength":
        return [Problem("schema.empty_text", f"{path[-1]} is empty", at, "write something here")]
    return [Problem(f"schema.{validator}", f"{error.message} ({where})", at)]


def _is_repeat(node: Any) -> bool:
    return isinstance(node, dict) and node.get("type") == "repeat"


def duplicate_problems(document: Document) -> list[Problem]:
    return [
        Problem(
            "yaml.duplicate_key",
            f"{path[-1]!r} appears twice here; only the last one would count",
            document.position(path, key=True),
            "merge the two into one",
        )
        for path, _ in document.duplicates
    ]


def check_text(text: str, filename: str = "<profile>", catalog: Any = None) -> tuple[Profile | None, list[Problem], Document | None]:
    """Every problem of a profile's text: (the profile when it loaded, problems sorted by line, the document).

    ``catalog`` answers what is installed (jobs, automations, plugins); None uses this unit's
    plugins.
    """
    from pioreactor.plugins_core.profiles.checks import Catalog, semantic_problems

    try:
        document = load(text, filename)
    except YAMLSyntaxError as err:
        return None, [Problem("yaml.syntax", str(err), err.position, err.hint)], None
    catalog = catalog or Catalog()
    problems = duplicate_problems(document) + schema_problems(document, sorted(catalog.action_types()))
    if not isinstance(document.data, dict):
        return None, sort_problems(problems), document
    profile, model_problems = build_profile(document, catalog.action_types())
    problems += model_problems + semantic_problems(profile, catalog)
    return profile, sort_problems(problems), document


def load_profile(path: Path, catalog: Any = None) -> tuple[Profile, list[Problem]]:
    """The profile in ``path``, with its warnings; ProfileError when it has errors."""
    profile, problems, document = check_text(path.read_text(encoding="utf-8"), str(path), catalog)
    if profile is None or any(p.severity == "error" for p in problems):
        raise ProfileError(problems, document)
    return profile, problems

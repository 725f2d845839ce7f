"""Descriptor views: what the plugins registered, turned into the fields upstream's UI reads.

Our descriptors are checked at registration (``pioreactor.sdk.ui``); upstream-style YAML files
in ``$PIO_HOME/ui/<jobs|automations/<kind>|charts|settings>/`` and the same under
``$PIO_HOME/plugins/ui/`` are read as they are and win over a registered one of the same name,
so descriptors written for upstream keep working.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from pioreactor.plugins_core.web.api import ApiError

NUMERIC = ("float", "integer")
#: words people write in capitals (or their own way) in names made from identifiers
ACRONYMS = {"od": "OD", "nod": "nOD", "led": "LED", "leds": "LEDs", "pwm": "PWM", "pid": "PID", "rpm": "RPM", "ml": "mL", "ph": "pH", "do": "DO"}
#: options a form never shows: the dialog or the job fills them in
HIDDEN_OPTIONS = frozenset({"automation_name", "experiment", "unit", "source_of_event"})
#: a click help text's own "[default: ...]" note, which the form shows as the value instead
DEFAULT_NOTE = re.compile(r"\s*\[default:[^\]]*\]")
#: a key's last word that is its unit: the form shows the unit beside the box, not in the label
UNIT_SUFFIXES = {"ml": "mL", "minutes": "min", "seconds": "s", "hours": "h"}


def display_name(identifier: str) -> str:
    """``led_automation`` -> ``LED automation``: words capitalised, known acronyms kept as such."""
    words = [ACRONYMS.get(word, word) for word in identifier.split("_") if word]
    if words and words[0] == words[0].lower():
        words[0] = words[0].capitalize()
    return " ".join(words)


def _this_unit(pioreactor_unit: str | None) -> None:
    from pioreactor.sdk import get_unit_name

    if pioreactor_unit is not None and pioreactor_unit != get_unit_name():
        raise ApiError(
            404,
            f"descriptors of {pioreactor_unit} are not served here",
            "this leader answers for itself only until the cluster fan-out exists",
            f"ask {pioreactor_unit}'s own /unit_api/jobs/descriptors",
        )


def _yaml_files(*parts: str) -> list[dict[str, Any]]:
    import yaml
    from pioreactor.sdk.unit import pio_home

    found = []
    for base in (pio_home() / "ui", pio_home() / "plugins" / "ui"):
        folder = base.joinpath(*parts)
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []:
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as err:
                print(f"pio web: skipping UI descriptor {path}: {err}", file=sys.stderr)
                continue
            if isinstance(data, dict):
                data.setdefault("source", "user")
                found.append(data)
    return found


def _merge(registered: list[dict[str, Any]], files: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    merged = {str(item[key]): item for item in registered}
    for item in files:
        if key in item:
            merged[str(item[key])] = item
    return list(merged.values())


def _setting(field: dict[str, Any]) -> dict[str, Any]:
    kind = field["type"]
    return {
        "key": field["key"],
        "type": "numeric" if kind in NUMERIC else kind,
        "display": True,
        "label": field.get("label"),
        "unit": field.get("unit"),
        "description": field.get("description"),
        "editable": bool(field.get("settable")),
        "default": field.get("default"),
    }


def job_descriptors() -> list[dict[str, Any]]:
    """Jobs with a UI descriptor, and every ``<kind>_automation`` job (so its card exists)."""
    from pioreactor.sdk.plugins import automation_kinds
    from pioreactor.sdk.ui import ui_descriptors

    jobs = []
    for spec in ui_descriptors().of("job"):
        data = spec.data
        jobs.append(
            {
                "job_name": data["job_name"],
                "display_name": data["display_name"],
                "display": True,
                "description": data.get("description"),
                "subtext": None,
                "source": spec.plugin,
                # the card shows what a job publishes: its settable settings
                "published_settings": [_setting(f) for f in data.get("fields", []) if f.get("settable")],
            }
        )
    described = {job["job_name"] for job in jobs}
    for kind in sorted(automation_kinds()):
        name = f"{kind}_automation"
        if name not in described:
            jobs.append(
                {
                    "job_name": name,
                    "display_name": display_name(f"{kind}_automation"),
                    "display": True,
                    "description": f"Runs one {ACRONYMS.get(kind, kind)} automation at a time.",
                    "subtext": None,
                    "source": "app",
                    "published_settings": [
                        {"key": "automation_name", "type": "string", "display": True, "label": "Automation", "editable": False}
                    ],
                }
            )
    return _merge(jobs, _yaml_files("jobs"), "job_name")


def _form_field(field: dict[str, Any]) -> dict[str, Any]:
    """A registered descriptor's field in the shape the forms read."""
    choices = field.get("choices")
    return {
        "key": field["key"],
        "default": field.get("default"),
        "label": field.get("label") or display_name(field["key"]),
        "unit": field.get("unit"),
        "description": field.get("description"),
        "type": "select" if choices else ("numeric" if field["type"] in NUMERIC else field["type"]),
        "options": [str(c) for c in choices] if choices else None,
        "disabled": False,
        "required": field.get("default") is None,
    }


def option_fields(job_class: type) -> list[dict[str, Any]]:
    """Form fields from a job class's keyword-only parameters (the options ``pio run`` gives it),
    with the units of its published settings: every automation gets a form, a third party's too."""
    import click
    from pioreactor.sdk.plugins import job_options

    units: dict[str, str] = {}
    for klass in reversed(job_class.__mro__):  # a subclass's published settings override its base's
        for name, meta in (vars(klass).get("published_settings") or {}).items():
            if isinstance(meta, dict) and meta.get("unit"):
                units[name] = str(meta["unit"])
    fields = []
    for option in job_options(job_class):
        key = str(option.name)
        if key in HIDDEN_OPTIONS:
            continue
        # click marks "no default" with a sentinel object (and may hold a callable): neither is a value
        default = option.default if isinstance(option.default, str | int | float | bool) else None
        choices = list(option.type.choices) if isinstance(option.type, click.Choice) else None
        kind = "boolean" if option.is_flag else "select" if choices else "numeric" if option.type.name in ("float", "integer") else "string"
        stem, _, last = key.rpartition("_")
        suffix_unit = UNIT_SUFFIXES.get(last) if stem else None
        fields.append(
            {
                "key": key,
                "default": default,
                "label": display_name(stem if suffix_unit else key),
                "unit": units.get(key) or suffix_unit or ("min" if key == "duration" else None),
                "description": DEFAULT_NOTE.sub("", option.help or "").strip() or None,
                "type": kind,
                "options": [str(c) for c in choices] if choices else None,
                "disabled": False,
                "required": bool(option.required),
            }
        )
    return fields


def _automation_fields(automation: Any, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The class's options, each overlaid with what a registered descriptor says of it (labels,
    units, defaults win); a descriptor's field the class does not take is kept as described."""
    try:
        derived = option_fields(automation.load())
    except Exception as err:  # a broken third-party module must not take the whole list down
        print(f"pio web: options of automation {automation.name!r} unreadable: {err}", file=sys.stderr)
        derived = []
    registered = {f["key"]: f for f in data.get("fields", [])}
    fields = []
    for field in derived:
        described = registered.pop(field["key"], None)
        if described is not None:
            overlay = _form_field(described)
            field = field | {k: v for k, v in overlay.items() if v is not None and k not in ("required", "disabled")}
            if "default" in described and described["default"] is not None:
                field["required"] = False
        fields.append(field)
    return fields + [_form_field(f) for f in registered.values()]


def automation_descriptors(kind: str) -> list[dict[str, Any]]:
    """Every registered automation of ``kind`` with its form: the options its class takes,
    labelled by the UI descriptor a plugin registered for it, if any."""
    from pioreactor.sdk.plugins import automations_of_kind
    from pioreactor.sdk.ui import ui_descriptors

    described = {spec.data["automation_name"]: spec for spec in ui_descriptors().of("automation") if spec.data["kind"] == kind}
    result = []
    for name, automation in sorted(automations_of_kind(kind).items()):
        spec = described.get(name)
        data = dict(spec.data) if spec else {}
        result.append(
            {
                "automation_name": name,
                "display_name": data.get("display_name") or display_name(name),
                "description": data.get("description") or automation.summary or "",
                "source": automation.plugin,
                "fields": _automation_fields(automation, data),
            }
        )
    return _merge(result, _yaml_files("automations", kind), "automation_name")


def chart_descriptors() -> list[dict[str, Any]]:
    from pioreactor.sdk.ui import ui_descriptors

    charts = []
    for spec in ui_descriptors().of("chart"):
        data = spec.data
        charts.append(
            {
                "chart_key": data["chart_key"],
                "title": data["title"],
                "source": spec.plugin,
                "data_source": data.get("table"),
                "data_source_column": data.get("column"),
                "mqtt_topic": data["topic"],
                "payload_key": data.get("payload_key"),
                "y_axis_label": data.get("y_axis_label", ""),
                "fixed_decimals": 3,
                # a chart of events shows each one: thinned out, doses would go missing
                "down_sample": data.get("interpolation") != "points",
                "lookback": 100_000,
                "interpolation": data.get("interpolation", "linear"),
                "y_transformation": "(y) => y",
                # the payload field (and column) naming a series within a unit: channel, event
                "series_key": data.get("series_key"),
            }
        )
    return _merge(charts, _yaml_files("charts"), "chart_key")


# -- views -----------------------------------------------------------------------------------------
def jobs(pioreactor_unit: str | None = None) -> Any:
    """Job descriptors (cards, settings dialogs)."""
    _this_unit(pioreactor_unit)
    return job_descriptors()


def automations(automation_type: str, pioreactor_unit: str | None = None) -> Any:
    """Automation descriptors of a kind (``dosing``, ``led``, ``temperature``...)."""
    _this_unit(pioreactor_unit)
    return automation_descriptors(automation_type)


def charts() -> Any:
    """Chart descriptors: ``data_source`` (table) and ``data_source_column`` for the time series."""
    return chart_descriptors()


def settings(pioreactor_unit: str | None = None) -> Any:
    """Settings collections (upstream-style YAML files in ``ui/settings``)."""
    _this_unit(pioreactor_unit)
    return _yaml_files("settings")


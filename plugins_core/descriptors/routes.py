"""Descriptor views: what the plugins registered, turned into the fields upstream's UI reads.

Our descriptors are checked at registration (``pioreactor.sdk.ui``); upstream-style YAML files
in ``$PIO_HOME/ui/<jobs|automations/<kind>|charts|settings>/`` and the same under
``$PIO_HOME/plugins/ui/`` are read as they are and win over a registered one of the same name,
so descriptors written for upstream keep working.
"""

from __future__ import annotations

import sys
from typing import Any

from pioreactor.plugins_core.web.api import ApiError

NUMERIC = ("float", "integer")


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
                    "display_name": f"{kind.capitalize()} automation",
                    "display": True,
                    "description": f"Runs one {kind} automation at a time.",
                    "subtext": None,
                    "source": "app",
                    "published_settings": [
                        {"key": "automation_name", "type": "string", "display": True, "label": "Automation", "editable": False}
                    ],
                }
            )
    return _merge(jobs, _yaml_files("jobs"), "job_name")


def automation_descriptors(kind: str) -> list[dict[str, Any]]:
    """Every registered automation of ``kind``, with its form when a plugin described it."""
    from pioreactor.sdk.plugins import automations_of_kind
    from pioreactor.sdk.ui import ui_descriptors

    described = {spec.data["automation_name"]: spec for spec in ui_descriptors().of("automation") if spec.data["kind"] == kind}
    result = []
    for name, automation in sorted(automations_of_kind(kind).items()):
        spec = described.get(name)
        data = spec.data if spec else {}
        result.append(
            {
                "automation_name": name,
                "display_name": data.get("display_name") or name.replace("_", " ").capitalize(),
                "description": data.get("description") or automation.summary or "",
                "source": automation.plugin,
                "fields": [
                    {
                        "key": f["key"],
                        "default": f.get("default"),
                        "label": f.get("label") or f["key"],
                        "unit": f.get("unit"),
                        "type": "select" if f.get("choices") else ("numeric" if f["type"] in NUMERIC else f["type"]),
                        "options": [str(c) for c in f["choices"]] if f.get("choices") else None,
                        "disabled": False,
                        "required": f.get("default") is None,
                    }
                    for f in data.get("fields", [])
                ],
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
                "down_sample": True,
                "lookback": 100_000,
                "interpolation": "stepAfter",
                "y_transformation": "(y) => y",
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


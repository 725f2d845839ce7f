"""Upstream plugins' packaged assets, read from the plugin's package folder and turned into our
registries' shapes: UI descriptors (``ui/contrib/{jobs,automations/<kind>,charts}/*.yaml``),
export datasets (``exportable_datasets/*.yaml``) and tables (``additional_sql.sql``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

UI_TYPES = {
    "numeric": "float",
    "float": "float",
    "integer": "integer",
    "int": "integer",
    "boolean": "boolean",
    "bool": "boolean",
    "string": "string",
    "text": "string",
    "json": "json",
}
CREATE_TABLE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`]?(\w+)", re.I)
DATASET_KEYS = {
    "table": "table",
    "query": "query",
    "description": "description",
    "display_name": "display_name",
    "timestamp_columns": "timestamp_columns",
    "has_unit": "has_unit",
    "has_experiment": "has_experiment",
    "default_order_by": "default_order_by",
    "always_partition_by_unit": "always_partition_by_unit",
}


def _yaml_files(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        yield from sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def ui_root(package: Path) -> Path:
    return package / "ui" / "contrib" if (package / "ui" / "contrib").is_dir() else package / "ui"


def _fields(items: Any, settable_default: bool) -> list[dict[str, Any]]:
    fields = []
    for item in items or []:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            continue
        if item.get("display") is False or item.get("disabled") is True:
            continue
        field: dict[str, Any] = {
            "key": item["key"],
            "type": UI_TYPES.get(str(item.get("type", "numeric")).lower(), "string"),
            "label": str(item.get("label") or item["key"].replace("_", " ").capitalize()),
        }
        for key in ("default", "unit", "description"):
            if item.get(key) is not None:
                field[key] = item[key]
        if settable_default:
            field["settable"] = bool(item.get("editable", True))
        fields.append(field)
    return fields


def ui_descriptors(package: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(category, descriptor) for each upstream UI yaml of the package."""
    root = ui_root(package)
    for path in _yaml_files(root / "jobs"):
        data = yaml.safe_load(path.read_text()) or {}
        if not isinstance(data, dict) or not data.get("job_name"):
            continue
        yield "job", {
            "job_name": data["job_name"],
            "display_name": str(data.get("display_name") or data["job_name"]),
            "description": str(data.get("description") or ""),
            "fields": _fields(data.get("published_settings"), settable_default=True),
        }
    for path in _yaml_files(root / "automations"):
        data = yaml.safe_load(path.read_text()) or {}
        name = data.get("automation_name") or data.get("key")  # 2021's descriptors used "key"
        if not isinstance(data, dict) or not name:
            continue
        yield "automation", {
            "automation_name": name,
            "kind": path.parent.name,
            "display_name": str(data.get("display_name") or data.get("name") or name),
            "description": str(data.get("description") or ""),
            "fields": _fields(data.get("fields"), settable_default=False),
        }
    for path in _yaml_files(root / "charts"):
        data = yaml.safe_load(path.read_text()) or {}
        topic = data.get("mqtt_topic")
        topic = topic[0] if isinstance(topic, list) and topic else topic
        if not isinstance(data, dict) or not data.get("chart_key") or not isinstance(topic, str):
            continue
        chart = {
            "chart_key": data["chart_key"],
            "title": str(data.get("title") or data["chart_key"]),
            "topic": topic,
        }
        for ours, theirs in (("payload_key", "payload_key"), ("y_axis_label", "y_axis_label"), ("table", "data_source"), ("column", "data_source_column")):
            if isinstance(data.get(theirs), str):
                chart[ours] = data[theirs]
        yield "chart", chart


def export_datasets(package: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in _yaml_files(package / "exportable_datasets"):
        data = yaml.safe_load(path.read_text()) or {}
        name = data.get("dataset_name") if isinstance(data, dict) else None
        if not name:
            continue
        fields = {ours: data[theirs] for theirs, ours in DATASET_KEYS.items() if data.get(theirs) is not None}
        if "table" in fields and "query" in fields:
            del fields["table"]  # upstream datasets with a query name their source table too
        yield name, fields


def sql_tables(package: Path) -> Iterator[tuple[str, str]]:
    """(first table created, the whole script) of ``additional_sql.sql``."""
    path = package / "additional_sql.sql"
    if not path.is_file():
        return
    script = path.read_text()
    match = CREATE_TABLE.search(script)
    if match:
        yield match.group(1), script

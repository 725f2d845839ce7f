"""The route list: ``pio web routes`` and the table in docs/web-api.md come from here."""

from __future__ import annotations

import inspect
from typing import Any

from pioreactor.sdk.web import web_route_registry


def _summary(spec: Any) -> str:
    if spec.summary:
        return str(spec.summary)
    try:
        doc = inspect.getdoc(spec.load()) or ""
    except Exception as err:  # a broken route module still gets listed
        return f"(cannot import {spec.target}: {type(err).__name__})"
    return " ".join(doc.split("\n\n")[0].split())


def route_rows() -> list[dict[str, Any]]:
    return [
        {
            "methods": list(spec.methods),
            "path": spec.path,
            "scope": spec.scope,
            "plugin": spec.plugin,
            "target": spec.target,
            "summary": _summary(spec),
        }
        for spec in web_route_registry().routes()
    ]


def markdown_table() -> str:
    """The route table of docs/web-api.md (between its BEGIN/END markers)."""
    lines = ["| Method | Path | Plugin | What it does |", "|---|---|---|---|"]
    for row in route_rows():
        summary = row["summary"].replace("|", "\\|")
        lines.append(f"| {' '.join(row['methods'])} | `{row['path']}` | {row['plugin']} | {summary} |")
    return "\n".join(lines) + "\n"

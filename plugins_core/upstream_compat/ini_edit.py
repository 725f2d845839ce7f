"""Adding and removing single keys of an INI file in place, keeping the user's comments, order
and formatting (configparser would rewrite the whole file)."""

from __future__ import annotations

import re
from pathlib import Path

SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")


def _key_of(line: str) -> str | None:
    stripped = line.strip()
    if not stripped or stripped[0] in "#;[":
        return None
    match = re.match(r"^([^=:]+?)\s*[=:]", stripped)
    return match.group(1).strip() if match else None


def _section_span(lines: list[str], section: str) -> tuple[int, int] | None:
    """(header index, end index) of ``section``; end is where the next section starts."""
    start = None
    for i, line in enumerate(lines):
        match = SECTION.match(line)
        if match:
            if start is not None:
                return start, i
            if match.group(1).strip() == section:
                start = i
    return (start, len(lines)) if start is not None else None


def add_key(path: Path, section: str, key: str, value: str) -> None:
    lines = path.read_text().splitlines() if path.is_file() else []
    span = _section_span(lines, section)
    if span is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines += [f"[{section}]", f"{key}={value}"]
    else:
        start, end = span
        insert = end
        while insert > start + 1 and not lines[insert - 1].strip():
            insert -= 1  # before the blank lines that end the section
        lines.insert(insert, f"{key}={value}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def remove_key(path: Path, section: str, key: str) -> None:
    """Remove ``key``; the section header goes too once no key is left in it."""
    if not path.is_file():
        return
    lines = path.read_text().splitlines()
    span = _section_span(lines, section)
    if span is None:
        return
    start, end = span
    kept = [line for line in lines[start + 1 : end] if _key_of(line) != key]
    if not any(_key_of(line) for line in kept) and not any(line.strip().startswith(("#", ";")) for line in kept):
        lines = lines[:start] + lines[end:]
        while lines and not lines[-1].strip():
            lines.pop()
    else:
        lines = lines[: start + 1] + kept + lines[end:]
    path.write_text("\n".join(lines) + ("\n" if lines else ""))

"""Problems found in a profile: where (line, column), what, a hint, and how serious."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pioreactor.plugins_core.profiles.source import Document, Position

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    code: str  # e.g. "schema.unknown_field", "job.unknown_option", "time.invalid"
    message: str
    position: Position
    hint: str = ""
    severity: Severity = "error"

    @property
    def line(self) -> int:
        return self.position.line

    @property
    def column(self) -> int:
        return self.position.column

    def format(self, document: Document | None = None, filename: str | None = None) -> str:
        """``file:line:column: error: message [code]``, the line of YAML with a caret, the hint."""
        name = filename or (document.filename if document else "<profile>")
        lines = [f"{name}:{self.line}:{self.column}: {self.severity}: {self.message} [{self.code}]"]
        source = document.line_text(self.line) if document else ""
        if source.strip():
            gutter = f"{self.line:>5} | "
            lines.append(gutter + source)
            lines.append(" " * (len(gutter) - 2) + "| " + " " * max(0, self.column - 1) + "^")
        if self.hint:
            lines.append(f"      hint: {self.hint}")
        return "\n".join(lines)


class ProfileError(Exception):
    """A profile that cannot run: its problems, each with a position."""

    def __init__(self, problems: list[Problem], document: Document | None = None) -> None:
        self.problems = problems
        self.document = document
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"{len(errors)} problem(s) in the profile")

    def report(self) -> str:
        return "\n".join(problem.format(self.document) for problem in self.problems)


def sort_problems(problems: list[Problem]) -> list[Problem]:
    unique: dict[tuple[int, int, str, str], Problem] = {}
    for problem in problems:
        unique.setdefault((problem.line, problem.column, problem.code, problem.message), problem)
    return sorted(unique.values(), key=lambda p: (p.line, p.column, p.severity != "error"))

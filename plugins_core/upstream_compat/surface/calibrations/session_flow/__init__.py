"""``pioreactor.calibrations.session_flow``: upstream 26.x's step-by-step session names.

Enough to import and define protocols; the sessions themselves do not run here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SessionContext:
    data: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    session: Any = None
    args: dict[str, Any] = field(default_factory=dict)

    def complete(self, *args: Any, **kwargs: Any) -> None:
        self.data["completed"] = True

    def store_estimator(self, estimator: Any, device: str) -> None:
        raise NotImplementedError("storing upstream estimators is not supported")


class SessionStep:
    step_id: str = ""

    def render(self, ctx: SessionContext) -> Any:
        raise NotImplementedError

    def advance(self, ctx: SessionContext) -> Any:
        return None


StepRegistry = dict


class _Builder:
    """``fields.float(...)``, ``steps.info(...)``: each call returns a plain description."""

    def __init__(self, kind: str) -> None:
        self._kind = kind

    def __getattr__(self, name: str) -> Any:
        def build(*args: Any, **kwargs: Any) -> dict[str, Any]:
            return {"kind": self._kind, "type": name, "args": args, **kwargs}

        return build


fields = _Builder("field")
steps = _Builder("step")

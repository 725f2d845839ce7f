"""Types for plugins that extend experiment profiles.

An action type registered with ``pioreactor_register_profile_actions`` is a callable
``action(context, options)``, run when the action fires (after its ``if:`` held):

    def notify(context: ProfileActionContext, options: dict) -> None:
        context.logger.notice(f"{context.unit}: {options['text']}")

``options`` is the action's ``options:`` mapping with every ``${{ ... }}`` already evaluated.
An exception is logged as a warning with the action's step number; the profile goes on.

An expression function registered with ``pioreactor_register_expression_functions`` is a
plain callable: numbers (floats), booleans and strings go in, one of them comes out.
"""

from __future__ import annotations

from typing import Any, Protocol


class ProfileActionContext(Protocol):
    """Where and when a plugin's profile action runs, and what it may do there."""

    #: the unit the action is for
    unit: str
    #: the experiment the profile runs in
    experiment: str
    #: the job block the action sits in (``pioreactors.<unit>.jobs.<job_name>``)
    job_name: str
    #: the action's step number (its position in the file), as the profile's log lines show it
    step: int
    #: a logger with ``debug``, ``info``, ``notice``, ``warning``, ``error``
    logger: Any

    def hours_elapsed(self) -> float:
        """Hours since the profile started (its pauses excluded)."""
        ...

    def evaluate(self, expression: str) -> Any:
        """Evaluate an expression (with or without ``${{ }}``) for this unit and job."""
        ...

    def start_job(self, job_name: str, options: dict[str, Any] | None = None) -> None:
        """Start a job on this unit as the profile's ``start`` does (stopped with the profile)."""
        ...

    def update_job(self, job_name: str, settings: dict[str, Any]) -> None:
        """Change settings of a running job, as ``update`` does."""
        ...

    def set_job_state(self, job_name: str, state: str) -> None:
        """``ready``, ``sleeping`` or ``disconnected``, as ``resume``, ``pause`` and ``stop`` do."""
        ...

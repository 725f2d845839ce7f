"""Upstream APIs that upstream itself removed: importing one says so in one line, with the fix."""

from __future__ import annotations

REMOVED: dict[str, tuple[str, str]] = {
    "pioreactor.background_jobs.subjobs": (
        "upstream removed in 2021 (before 21.11.0)",
        "subclass pioreactor.automations.dosing.base.DosingAutomationJobContrib, set automation_name "
        "instead of key, and call super().__init__(**kwargs)",
    ),
}


class RemovedUpstreamAPI(ImportError):
    """A plugin imports an upstream module that upstream removed."""

    def __init__(self, module: str) -> None:
        when, fix = REMOVED.get(module, ("upstream removed", "port the plugin to the current API"))
        super().__init__(
            f"this plugin was written for {module}, which {when}; it cannot run on any current "
            f"Pioreactor. To port it: {fix} (see docs/plugins/upstream.md)",
            name=module,
        )

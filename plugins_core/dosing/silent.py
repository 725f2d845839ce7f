"""``silent``: doses nothing, but keeps track of the liquid (doses by hand, other jobs')."""

from __future__ import annotations

from pioreactor.plugins_core.dosing.automation import DosingAutomationJob


class Silent(DosingAutomationJob):
    """Dose nothing; keep the volume and alt-media fraction up to date from other doses."""

    automation_name = "silent"

    def execute(self) -> None:
        return None

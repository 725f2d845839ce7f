"""``pioreactor.background_jobs.dosing_automation``: upstream's ``DosingAutomationJob``."""

from pioreactor.automations.dosing.base import DosingAutomationJob

__all__ = ["DosingAutomationJob"]

"""``pioreactor.automations.dosing.base``: ``DosingAutomationJob`` and ``DosingAutomationJobContrib``.

A subclass with ``automation_name`` becomes ``pio run dosing_automation --automation-name NAME``;
``execute()`` returns an event and doses with ``execute_io_action(media_ml=, alt_media_ml=,
waste_ml=)``; ``latest_od``, ``latest_normalized_od`` and ``latest_growth_rate`` read the
sensors, as upstream's do.
"""

from __future__ import annotations

from typing import Any

from pioreactor.automations.base import UpstreamAutomation
from pioreactor.background_jobs.base import UpstreamStateHooks
from pioreactor.plugins_core.dosing.api import DosingAutomationJob as _SdkDosingAutomationJob


class DosingAutomationJob(UpstreamAutomation, _SdkDosingAutomationJob, UpstreamStateHooks):
    automation_name = "dosing_automation_base"

    def __init__(self, unit: str, experiment: str, **kwargs: Any) -> None:
        plugin_name = kwargs.pop("plugin_name", None)
        if plugin_name:
            self.source = plugin_name
        for ignored in ("initial_volume_ml", "initial_alt_media_fraction"):  # upstream reads config here too
            kwargs.pop(ignored, None)
        super().__init__(unit, experiment, **kwargs)


class DosingAutomationJobContrib(DosingAutomationJob):
    """Subclass this in a plugin (upstream's name); set ``automation_name``."""

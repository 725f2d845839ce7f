"""The stirring plugin's public API: the stirring job and how an RPM is measured.

    from pioreactor.plugins_core.stirring.api import Stirrer, rpm_from_edges
"""

from __future__ import annotations

from pioreactor.plugins_core.stirring.job import Stirrer, rpm_from_edges
from pioreactor.plugins_core.stirring.records import measured_rpm
from pioreactor.plugins_core.stirring.structs import MeasuredRPM

__all__ = [
    "MeasuredRPM",
    "Stirrer",
    "measured_rpm",
    "rpm_from_edges",
]

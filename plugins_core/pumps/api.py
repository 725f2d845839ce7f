"""The pumps plugin's public API: dose liquid into and out of the vial, as every dose does.

Other plugins (dosing automations, calibration protocols, a lab's own job) import only this
module of the pumps plugin::

    from pioreactor.plugins_core.pumps.api import dose

    result = dose("media", ml=1.0, source_of_event="my_job")  # this unit, its experiment

A dose is checked (pump, calibration, volume), offered to ``pioreactor_before_dose``, announced
on ``dosing_events`` and run on the kernel clock, with the PWM switched off however it ends.
"""

from __future__ import annotations

from pioreactor.plugins_core.pumps.dose import (
    DosePlan,
    DoseRefused,
    DoseRequest,
    DoseResult,
    DoseVetoed,
    active_pump_calibration,
    calibration_device,
    call_before_dose_hooks,
    circulate,
    dose,
    event_name,
    how_to_calibrate,
    plan_dose,
    pump_lock,
    pump_roles,
    pump_roles_with_plugin_defaults,
    role_of,
)
from pioreactor.plugins_core.pumps.records import dosing_event

__all__ = [
    "DosePlan",
    "DoseRefused",
    "DoseRequest",
    "DoseResult",
    "DoseVetoed",
    "active_pump_calibration",
    "calibration_device",
    "call_before_dose_hooks",
    "circulate",
    "dose",
    "dosing_event",
    "event_name",
    "how_to_calibrate",
    "plan_dose",
    "pump_lock",
    "pump_roles",
    "pump_roles_with_plugin_defaults",
    "role_of",
]

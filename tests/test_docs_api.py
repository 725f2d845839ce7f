"""Every core plugin's ``api`` module is documented like the SDK, and the SDK's old paths of
moved names still work without making ``import pioreactor.sdk`` any heavier.

Fast: imports only (and one subprocess).
"""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "plugins" / "api-modules.md"
API_MODULES = sorted(
    f"pioreactor.plugins_core.{path.parent.name}.api" for path in (ROOT / "plugins_core").glob("*/api.py")
)

# old SDK module -> its names, as docs/plugins/sdk.md listed them before they moved
MOVED = {
    "pioreactor.sdk.pumps": ["dose", "circulate", "plan_dose", "DosePlan", "DoseResult", "DoseRequest",
                             "DoseRefused", "DoseVetoed", "call_before_dose_hooks", "pump_lock", "pump_roles",
                             "pump_roles_with_plugin_defaults", "role_of", "event_name", "calibration_device",
                             "how_to_calibrate", "active_pump_calibration", "run_job_from_command"],
    "pioreactor.sdk.automations.dosing": ["DosingAutomationJob", "JobRequiredError", "DilutionEvent",
                                          "AddMediaEvent", "AddAltMediaEvent", "NoEvent", "ErrorOccurred"],
    "pioreactor.sdk.automations.temperature": ["TemperatureAutomationJob", "implausibility"],
    "pioreactor.sdk.automations.led": ["LEDAutomationJob"],
    "pioreactor.sdk.automations": ["TemperatureAutomationJob", "LEDAutomationJob", "DosingAutomationJob"],
    "pioreactor.sdk.leds": ["set_intensities", "current_intensities", "locked", "locked_channels",
                            "temporarily", "LED_CHANNELS"],
    "pioreactor.sdk.dodging": ["ODDodger"],
    "pioreactor.sdk.records": ["od_reading", "raw_od_reading", "od_blank", "growth_rate", "od_filtered",
                               "kalman_filter_output", "temperature", "measured_rpm", "led_change_event",
                               "dosing_event", "log", "automation_event", "liquid_volume", "alt_media_fraction"],
    "pioreactor.sdk.experiments": ["Experiment", "ExperimentError", "create_experiment", "delete_experiment",
                                   "list_experiments", "experiment_created_at", "assign_experiment",
                                   "assign_units", "unassign_units", "get_assigned_experiment"],
    "pioreactor.sdk.profiles": ["ProfileActionContext"],
    "pioreactor.sdk.structs": ["ODReading", "ODReadings", "GrowthRate", "ODFiltered", "KalmanFilterOutput",
                               "Temperature", "MeasuredRPM", "LEDsIntensity", "LEDChangeEvent", "DosingEvent"],
    "pioreactor.sdk.calibrations": ["CalibratedODReading", "PumpCalibration", "load_active_calibration"],
    "pioreactor.sdk.profiles_support": ["registered_jobs", "job_interface", "JobInterface", "OptionInfo",
                                        "automation_kinds", "automations_of_kind", "automation_interface",
                                        "profile_actions", "expression_functions", "installed_plugin_versions",
                                        "normalise_plugin_name", "experiment_profiles_dir", "is_unit_active",
                                        "pio_command"],
}


def test_every_core_plugin_api_module_is_found() -> None:
    assert "pioreactor.plugins_core.pumps.api" in API_MODULES and len(API_MODULES) >= 8


@pytest.mark.parametrize("module_name", API_MODULES)
def test_api_module_is_documented_like_the_sdk(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert (module.__doc__ or "").strip(), f"{module_name} needs a module docstring"
    assert hasattr(module, "__all__"), f"{module_name} needs an __all__ listing its public names"
    undocumented = [
        name
        for name in module.__all__
        if (inspect.isclass(getattr(module, name)) or inspect.isfunction(getattr(module, name)))
        and not (getattr(module, name).__doc__ or "").strip()
    ]
    assert not undocumented, f"{module_name}: give {undocumented} a docstring"
    page = PAGE.read_text(encoding="utf-8")
    assert f"## `{module_name}`" in page, f"docs/plugins/api-modules.md has no section for `{module_name}`"
    mentioned = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)", page))
    missing = [name for name in module.__all__ if name not in mentioned]
    assert not missing, f"docs/plugins/api-modules.md does not mention {missing} of {module_name}"


@pytest.mark.parametrize("old_module", sorted(MOVED))
def test_moved_names_still_import_from_their_old_sdk_path(old_module: str) -> None:
    module = importlib.import_module(old_module)
    for name in MOVED[old_module]:
        value = getattr(module, name)
        assert getattr(value, "__name__", name) == name or not callable(value)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        module.nonexistent  # noqa: B018


def test_old_sdk_paths_import_no_plugin_until_a_name_is_used() -> None:
    code = (
        "import sys\n"
        "import pioreactor.sdk, pioreactor.sdk.pumps, pioreactor.sdk.automations.dosing, pioreactor.sdk.automations\n"
        "from pioreactor.sdk.structs import AutomationEvent, decode\n"
        "import pioreactor.sdk.calibrations\n"
        "assert not [m for m in sys.modules if m.startswith('pioreactor.plugins_core.')], sorted(sys.modules)\n"
        "from pioreactor.sdk.automations.dosing import DosingAutomationJob\n"
        "from pioreactor.plugins_core.dosing.api import DosingAutomationJob as same\n"
        "assert DosingAutomationJob is same\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

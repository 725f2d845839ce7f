"""``pioreactor.whoami``: who this unit is and which experiment it runs (upstream's names)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pioreactor import sdk

UNIVERSAL_EXPERIMENT = "$experiment"
UNIVERSAL_IDENTIFIER = "$broadcast"
NO_EXPERIMENT = "$no_experiment_present"


def get_unit_name() -> str:
    return sdk.get_unit_name()


def get_assigned_experiment_name(unit_name: str | None = None) -> str:
    """The experiment this unit is assigned to (upstream asks the leader; we keep it locally)."""
    return sdk.get_assigned_experiment()


def get_latest_experiment_name() -> str:
    """Removed upstream in 26.x; kept here because old plugins (relay.py) still import it."""
    return sdk.get_assigned_experiment()


def get_testing_experiment_name() -> str:
    return f"_testing_{get_assigned_experiment_name()}"


def is_testing_env() -> bool:
    return os.environ.get("TESTING", "") == "1" or "PYTEST_CURRENT_TEST" in os.environ


def am_I_leader() -> bool:  # noqa: N802 (upstream's spelling)
    return sdk.am_i_leader()


am_i_leader = am_I_leader


def is_active(unit_name: str | None = None) -> bool:
    from pioreactor.sdk.unit import is_active as unit_is_active

    return unit_is_active()


@dataclass(frozen=True)
class Model:
    model_name: str
    model_version: str
    display_name: str


def get_pioreactor_model(unit_name: str | None = None) -> Model:
    config = sdk.get_config()
    name = config.get("pioreactor", "model", fallback="pioreactor_20ml")
    version = config.get("pioreactor", "version", fallback="1.1")
    return Model(name, version, f"{name.replace('_', ' ').title()} v{version}")


def get_pioreactor_version(unit_name: str | None = None) -> tuple[int, int]:
    major, _, minor = get_pioreactor_model().model_version.partition(".")
    return int(major or 1), int(minor or 0)


def get_hashed_serial_number() -> str:
    return get_unit_name()


def get_rpi_machine() -> str:
    import platform

    return platform.machine()

"""Calibrations: the ``pio calibrations`` command and the built-in protocols (pumps, stirring, OD)."""

from pioreactor.sdk import hookimpl

PROTOCOLS = "pioreactor.plugins_core.calibrations.protocols"
PUMPS = ("media_pump", "alt_media_pump", "waste_pump")
OD_DEVICES = ("od45", "od90", "od135", "od180")


@hookimpl
def pioreactor_register_commands(registry):
    registry.add(
        "calibrations",
        "pioreactor.plugins_core.calibrations.cli:calibrations",
        summary="Run, list, inspect and choose calibrations (pumps, stirring, OD).",
    )


@hookimpl
def pioreactor_register_calibration_protocols(registry):
    for pump in PUMPS:
        registry.add(
            pump,
            "duration_based",
            f"{PROTOCOLS}.pump:DurationBasedPumpProtocol",
            summary="Run the pump for set durations and enter the volume each run moved",
        )
    registry.add(
        "stirring",
        "dc_based",
        f"{PROTOCOLS}.stirring:DutyCycleBasedStirringProtocol",
        summary="Step the duty cycle and measure the RPM with the hall sensor",
    )
    for device in OD_DEVICES:
        registry.add(
            device,
            "standards",
            f"{PROTOCOLS}.od:ODStandardsProtocol",
            summary="Read vials of known OD600 (standards) and a blank",
        )

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


ROUTES = "pioreactor.plugins_core.calibrations.routes"


@hookimpl
def pioreactor_register_web_routes(registry):
    calibration = "/calibrations/<device>/<calibration_name>"
    active = "/active_calibrations/<device>"
    unit_routes = [
        ("/calibrations", "get_calibrations", "GET"),
        ("/calibrations/<device>", "get_device_calibrations", "GET"),
        ("/calibrations/<device>", "post_calibration", "POST"),
        (calibration, "get_calibration", "GET"),
        (calibration, "delete_calibration_view", "DELETE"),
        ("/active_calibrations", "get_active_calibrations", "GET"),
        (f"{active}/<calibration_name>", "patch_active_calibration", ("PATCH", "POST")),
        (active, "delete_active_calibration", "DELETE"),
        ("/calibration_protocols", "get_protocols", "GET"),
        ("/zipped_calibrations", "get_zipped_calibrations", "GET"),
        ("/estimators", "get_estimators", "GET"),
        ("/active_estimators", "get_estimators", "GET"),
    ]
    for rule, view, methods in unit_routes:
        registry.add(rule, f"{ROUTES}:{view}", methods=methods, scope="unit_api")
    worker = "/workers/<pioreactor_unit>"
    api_routes = [
        ("/calibrations", "api_calibrations", "GET"),
        ("/calibrations/<device>", "api_device_calibrations", "GET"),
        ("/calibrations/<device>", "api_post_calibration", "POST"),
        (calibration, "api_calibration", "GET"),
        (calibration, "api_delete_calibration", "DELETE"),
        ("/active_calibrations", "api_active_calibrations", "GET"),
        (f"{active}/<calibration_name>", "api_patch_active", ("PATCH", "POST")),
        (active, "api_delete_active", "DELETE"),
        ("/calibration_protocols", "api_protocols", "GET"),
        ("/zipped_calibrations", "api_zipped_calibrations", "GET"),
        ("/estimators", "api_estimators", "GET"),
        ("/active_estimators", "api_estimators", "GET"),
    ]
    sessions = ["/calibrations/sessions", "/calibrations/sessions/<session_id>"]
    sessions += [f"{sessions[1]}/inputs", f"{sessions[1]}/abort"]
    for rule in sessions:
        registry.add(rule, f"{ROUTES}:sessions_not_offered", methods=("GET", "POST"), scope="unit_api")
        api_routes.append((rule, "sessions_not_offered", ("GET", "POST")))
    for rule, view, methods in api_routes:
        registry.add(f"{worker}{rule}", f"{ROUTES}:{view}", methods=methods, scope="api")

"""Pumps: ``add_media``, ``remove_waste``, ``add_alt_media``, ``circulate_media``,
``circulate_alt_media`` and ``pumps`` (several doses in order)."""

from pioreactor.sdk import hookimpl

ACTIONS = "pioreactor.plugins_core.pumps.actions"


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add(
        "add_media",
        f"{ACTIONS}:AddMedia",
        summary="Pump media into the vial (--ml, --duration or --continuously)",
    )
    registry.add(
        "remove_waste", f"{ACTIONS}:RemoveWaste", summary="Pump liquid out of the vial with the waste pump"
    )
    registry.add("add_alt_media", f"{ACTIONS}:AddAltMedia", summary="Pump alternative media into the vial")
    registry.add(
        "circulate_media",
        f"{ACTIONS}:CirculateMedia",
        summary="Run media in and waste out together (waste starts first, ends last)",
    )
    registry.add(
        "circulate_alt_media",
        f"{ACTIONS}:CirculateAltMedia",
        summary="Run alternative media in and waste out together",
    )
    registry.add(
        "pumps",
        "pioreactor.plugins_core.pumps.cli:pumps",
        summary="Run several doses in the order given, e.g. --media 1 --waste 2",
    )


@hookimpl
def pioreactor_register_config_defaults(defaults):
    # every pump and its role: `add` pumps liquid in, `remove` pumps it out. A plugin (or a user,
    # in config.ini) adds a pump with a line such as `salt = add`, and gives it a [PWM] channel
    # and a calibration (device salt_pump); its dosing events are then add_salt.
    defaults.section("pumps", {"media": "add", "alt_media": "add", "waste": "remove"})
    from pioreactor.sdk import Limits

    # what the vial holds: no single dose of a pump that adds liquid may be larger
    defaults.section("bioreactor", {"reactor_capacity_ml": 20.0}, limits={"reactor_capacity_ml": Limits(above=0)})

"""Pumps: ``add_media``, ``remove_waste``, ``add_alt_media``, ``circulate_media``,
``circulate_alt_media`` and ``pumps`` (several doses in order)."""

from pioreactor.sdk import hookimpl

ACTIONS = "pioreactor.plugins_core.pumps.actions"


@hookimpl
def pioreactor_addhooks(pluginmanager):
    from pioreactor.plugins_core.pumps import hookspecs

    pluginmanager.add_hookspecs(hookspecs)  # pioreactor_before_dose


@hookimpl
def pioreactor_register_jobs(registry):
    registry.reserve("dosing_events")  # the topic of every dose, as upstream
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
    defaults.section("PWM", {"2": "media", "3": "alt_media", "4": "waste"})  # the HAT's channels, as upstream


# -- the leader's database: the time series declared once (table, sink, dataset) -----------------
@hookimpl
def pioreactor_register_timeseries(registry):
    registry.add(
        "dosing_events",
        topics="pioreactor/+/+/dosing_events",
        parser="pioreactor.plugins_core.pumps.records:dosing_event",
        columns={"volume_change_ml": "REAL NOT NULL", "event": "TEXT NOT NULL", "source_of_event": "TEXT"},
        key=["event"],
        units={"volume_change_ml": "mL"},
        description="Each volume a pump added or removed, and what asked for it.",
        summary="Every volume a pump moved",
        # each dose a marker of its own, one series per unit and event (unit1-add_media); the
        # payload's field is volume_change, as upstream publishes it
        chart={
            "chart_key": "dosing_events",
            "title": "Dosing events",
            "topic": "dosing_events",
            "payload_key": "volume_change",
            "y_axis_label": "mL",
            "column": "volume_change_ml",
            "interpolation": "points",
        },
    )

"""Dosing: the ``dosing_automation`` job and its automations (turbidostat, chemostat,
pid_morbidostat, fed_batch, silent)."""

from pioreactor.sdk import hookimpl

HERE = "pioreactor.plugins_core.dosing"


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add(
        "dosing_automation",
        f"{HERE}.cli:dosing_automation",
        summary="Dose media, alt-media and waste with an automation (turbidostat, chemostat, ...)",
    )


@hookimpl
def pioreactor_register_automations(registry):
    registry.add(
        "dosing",
        "turbidostat",
        f"{HERE}.turbidostat:Turbidostat",
        summary="Exchange media whenever the culture reaches a target nOD or OD",
    )
    registry.add(
        "dosing",
        "chemostat",
        f"{HERE}.chemostat:Chemostat",
        summary="Exchange a fixed volume of media every period (a constant dilution rate)",
    )
    registry.add(
        "dosing",
        "pid_morbidostat",
        f"{HERE}.pid_morbidostat:PIDMorbidostat",
        summary="Hold a target growth rate by dosing alt-media (a drug) with a PID",
    )
    registry.add(
        "dosing",
        "fed_batch",
        f"{HERE}.fed_batch:FedBatch",
        summary="Add media every period, removing nothing",
    )
    registry.add(
        "dosing", "silent", f"{HERE}.silent:Silent", summary="Dose nothing; keep track of the liquid"
    )


@hookimpl
def pioreactor_register_config_defaults(defaults):
    from pioreactor.sdk import Limits

    defaults.section(
        "dosing_automation.config",
        {
            # a dose is split into sub-doses of at most this many ml, with waste removed after each
            "max_subdose": 1.0,
            # after each sub-dose of media or alt-media, so the liquid mixes before waste goes out
            "pause_between_subdoses_seconds": 5.0,
            # after removing as much as was added, remove this many times more: the efflux tube
            # keeps the level, so the extra pumps air, and any excess liquid goes
            "waste_removal_multiplier": 2.0,
            # no dose may take the tracked volume here (a warning comes at 90 % of it)
            "max_volume_to_stop": 18.0,
        },
        limits={
            "max_subdose": Limits(above=0),
            "pause_between_subdoses_seconds": Limits(minimum=0),
            "waste_removal_multiplier": Limits(minimum=0),
            "max_volume_to_stop": Limits(above=0),
        },
    )
    defaults.section(
        "bioreactor",
        {
            # the volume the efflux (waste) tube holds the vial at (upstream's name since 25.6;
            # max_volume_ml, the older name, is still read when it is set in a config file)
            "max_working_volume_ml": 14.0,
            "max_volume_ml": 14.0,
            "initial_volume_ml": 14.0,
            "initial_alt_media_fraction": 0.0,
        },
        limits={
            "max_working_volume_ml": Limits(above=0),
            "max_volume_ml": Limits(above=0),
            "initial_volume_ml": Limits(minimum=0),
            "initial_alt_media_fraction": Limits(minimum=0, maximum=1),
        },
    )
    defaults.section(
        "dosing_automation.turbidostat",
        {
            # od_reading's channel that target_od refers to
            "signal_channel": "2",
            # a dilution needs this many readings in a row at or above the target, all taken
            # since the last dilution ended: a single high outlier cannot trigger one
            "readings_above_target": 2,
        },
    )
    defaults.section(
        "dosing_automation.pid_morbidostat",
        {"Kp": 5.0, "Ki": 0.0, "Kd": 0.0, "minimum_dosing_volume_ml": 0.1},
    )


# -- the leader's database: each time series declared once (table, sink, dataset) ---------------
@hookimpl
def pioreactor_register_timeseries(registry):
    from pioreactor.sdk.automations.events import add_automation_events

    add_automation_events(registry, "dosing", "What the dosing automation decided at each run.")
    prefix = "pioreactor/+/+/dosing_automation"
    records = "pioreactor.plugins_core.dosing.records"
    registry.add(
        "liquid_volumes",
        topics=f"{prefix}/current_volume_ml",
        parser=f"{records}:liquid_volume",
        columns={"liquid_volume": "REAL NOT NULL"},
        key=None,
        timestamped=False,
        units={"liquid_volume": "mL"},
        description="The liquid volume in the vial, as the dosing automation tracks it.",
        chart={
            "chart_key": "liquid_volume",
            "title": "Liquid volume",
            "topic": "dosing_automation/current_volume_ml",
            "y_axis_label": "mL",
            "column": "liquid_volume",
        },
    )
    registry.add(
        "alt_media_fractions",
        topics=f"{prefix}/alt_media_fraction",
        parser=f"{records}:alt_media_fraction",
        columns={"alt_media_fraction": "REAL NOT NULL"},
        key=None,
        timestamped=False,
        description="The fraction of alternative media in the vial.",
        chart={
            "chart_key": "fraction_of_volume_that_is_alternative_media",
            "title": "Fraction of volume that is alternative media",
            "topic": "dosing_automation/alt_media_fraction",
            "y_axis_label": "Fraction",
            "column": "alt_media_fraction",
        },
    )

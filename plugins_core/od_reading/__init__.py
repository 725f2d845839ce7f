"""Optical density: the ``od_reading`` job and the ``od_blank`` action."""

from pioreactor.sdk import hookimpl


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add("od_reading", "pioreactor.plugins_core.od_reading.job:ODReader", summary="Measure optical density")
    registry.add(
        "od_blank",
        "pioreactor.plugins_core.od_reading.blank:od_blank",
        summary="Measure (or delete) the blank OD of the experiment's media",
    )


@hookimpl
def pioreactor_register_config_defaults(defaults):
    from pioreactor.sdk import Limits

    # which photodiode channel sits where: REF sees the IR LED directly, the others an angle
    defaults.section("od_config.photodiode_channel", {"1": "REF", "2": "90", "3": "", "4": ""})
    defaults.section(
        "od_reading.config",
        {
            "samples_per_second": 0.2,
            # a percentage, or auto: chosen at start so the REF photodiode reads about 0.1 V
            "ir_led_intensity": "auto",
            # weight of history in the moving average of the REF photodiode
            "pd_reference_ema": 0.4,
            "turn_off_leds_during_reading": True,
            # samples per channel per reading, spread over mains_periods periods of the mains
            "samples_per_reading": 16,
            "mains_hz": 50.0,
            "mains_periods": 1.0,
            "warning_voltage": 3.0,
            "saturation_voltage": 3.2,
        },
        limits={
            "samples_per_second": Limits(above=0),
            "pd_reference_ema": Limits(minimum=0, maximum=1),
            "samples_per_reading": Limits(minimum=1),
            "mains_hz": Limits(above=0),
            "mains_periods": Limits(above=0),
            "warning_voltage": Limits(above=0),
            "saturation_voltage": Limits(above=0),
        },
    )


# -- the leader's database: each time series declared once (table, sink, dataset, chart) ---------
RECORDS = "pioreactor.plugins_core.od_reading.records"
OD_COLUMNS = {"od_reading": "REAL NOT NULL", "angle": "INTEGER NOT NULL", "channel": "INTEGER NOT NULL"}
OD_DESCRIPTIONS = {
    "od_reading": "OD: OD600 if calibrated is 1, else the photodiode signal relative to the REF photodiode",
    "angle": "angle of the photodiode to the IR LED, in degrees",
    "channel": "photodiode channel of the HAT",
    "calibrated": "1 if od_reading went through an OD calibration",
}


@hookimpl
def pioreactor_register_timeseries(registry):
    readings = "pioreactor/+/+/od_reading"
    registry.add(
        "od_readings",
        topics=[f"{readings}/od{n}" for n in range(1, 5)],
        parser=f"{RECORDS}:od_reading",
        columns=OD_COLUMNS | {"calibrated": "INTEGER NOT NULL DEFAULT 0"},
        key=["channel"],
        descriptions=OD_DESCRIPTIONS,
        description="Optical density readings of each photodiode channel.",
        chart={
            "chart_key": "optical_density",
            "title": "Optical density",
            "topic": "od_reading/ods",
            "payload_key": "ods",
            "y_axis_label": "OD",
            "column": "od_reading",
        },
    )
    registry.add(
        "raw_od_readings",
        topics=[f"{readings}/raw_od{n}" for n in range(1, 5)],
        parser=f"{RECORDS}:raw_od_reading",
        columns=OD_COLUMNS,
        key=["channel"],
        description="Optical density signals before OD calibration (recorded where a calibration is active).",
        summary="OD before calibration",
    )
    registry.add(
        "od_blanks",
        topics="pioreactor/+/+/od_blank/mean/+",
        parser=f"{RECORDS}:od_blank",
        columns=OD_COLUMNS,
        key=["channel"],
        summary="Blank OD of the media, per channel",
        dataset=False,
    )
    registry.add(
        "ir_led_intensities",
        topics=f"{readings}/relative_intensity_of_ir_led",
        parser=f"{RECORDS}:ir_led_intensity",
        columns={"relative_intensity": "REAL NOT NULL"},
        description="The IR LED's brightness relative to the start of od_reading, seen by the REF photodiode.",
        summary="The IR LED's brightness relative to the start of od_reading",
    )


# -- what a user interface shows -----------------------------------------------------------------
@hookimpl
def pioreactor_register_ui_descriptors(registry):
    registry.add_job(
        {
            "job_name": "od_reading",
            "display_name": "Optical density",
            "description": "Measure the culture's optical density with the IR LED and photodiodes.",
            "fields": [
                {"key": "interval", "label": "Seconds between readings", "type": "float", "default": 5.0, "unit": "s", "settable": True},
                {"key": "ir_led_intensity", "label": "IR LED intensity", "type": "string", "default": "auto", "unit": "%"},
                {"key": "use_calibration", "label": "Use the active OD calibration", "type": "boolean", "default": True},
            ],
        }
    )

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


# -- the leader's database (tables, what streams into them, what exports offer) ----------------
def _od_table(name, extra=""):
    return (
        f"CREATE TABLE IF NOT EXISTS {name} (experiment TEXT NOT NULL, pioreactor_unit TEXT NOT NULL, "
        f"timestamp TEXT NOT NULL, od_reading REAL NOT NULL, angle INTEGER NOT NULL, channel INTEGER NOT NULL{extra}, "
        "UNIQUE (experiment, timestamp, pioreactor_unit, channel))"
    )


@hookimpl
def pioreactor_register_database_tables(registry):
    registry.add("od_readings", migrations=[_od_table("od_readings", ", calibrated INTEGER NOT NULL DEFAULT 0")])
    registry.add("raw_od_readings", migrations=[_od_table("raw_od_readings")], summary="OD before calibration")
    registry.add("od_blanks", migrations=[_od_table("od_blanks")], summary="Blank OD of the media, per channel")
    registry.add(
        "ir_led_intensities",
        migrations=[
            "CREATE TABLE IF NOT EXISTS ir_led_intensities (experiment TEXT NOT NULL, pioreactor_unit TEXT NOT NULL, "
            "timestamp TEXT NOT NULL, relative_intensity REAL NOT NULL, UNIQUE (experiment, timestamp, pioreactor_unit))"
        ],
        summary="The IR LED's brightness relative to the start of od_reading (from the REF photodiode)",
    )


@hookimpl
def pioreactor_register_mqtt_sinks(registry):
    readings = "pioreactor/+/+/od_reading"
    registry.add("od_readings", topics=[f"{readings}/od{n}" for n in range(1, 5)], parser="pioreactor.sdk.records:od_reading")
    registry.add(
        "raw_od_readings", topics=[f"{readings}/raw_od{n}" for n in range(1, 5)], parser="pioreactor.sdk.records:raw_od_reading"
    )
    registry.add("od_blanks", topics="pioreactor/+/+/od_blank/mean/+", parser="pioreactor.sdk.records:od_blank")
    registry.add(
        "ir_led_intensities",
        topics=f"{readings}/relative_intensity_of_ir_led",
        parser="pioreactor.sdk.records:ir_led_intensity",
    )


OD_COLUMNS = {
    "od_reading": "OD: OD600 if calibrated is 1, else the photodiode signal relative to the REF photodiode",
    "angle": "angle of the photodiode to the IR LED, in degrees",
    "channel": "photodiode channel of the HAT",
    "calibrated": "1 if od_reading went through an OD calibration",
}


@hookimpl
def pioreactor_register_export_datasets(registry):
    registry.add(
        "od_readings",
        table="od_readings",
        description="Optical density readings of each photodiode channel.",
        timestamp_columns=["timestamp"],
        default_order_by="timestamp",
        column_descriptions=OD_COLUMNS,
    )
    registry.add(
        "ir_led_intensities",
        table="ir_led_intensities",
        description="The IR LED's brightness relative to the start of od_reading, seen by the REF photodiode.",
        timestamp_columns=["timestamp"],
        default_order_by="timestamp",
    )
    registry.add(
        "raw_od_readings",
        table="raw_od_readings",
        description="Optical density signals before OD calibration (recorded where a calibration is active).",
        timestamp_columns=["timestamp"],
        default_order_by="timestamp",
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
    registry.add_chart(
        {
            "chart_key": "optical_density",
            "title": "Optical density",
            "topic": "od_reading/ods",
            "payload_key": "ods",
            "y_axis_label": "OD",
            "table": "od_readings",
            "column": "od_reading",
        }
    )

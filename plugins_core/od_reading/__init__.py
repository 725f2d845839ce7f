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
    )

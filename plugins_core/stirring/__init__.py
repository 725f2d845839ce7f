"""Stirring: closed-loop RPM control of the stir bar."""

from pioreactor.sdk import hookimpl


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add(
        "stirring", "pioreactor.plugins_core.stirring.job:Stirrer", summary="Stir the vial at a target RPM"
    )


@hookimpl
def pioreactor_register_config_defaults(defaults):
    from pioreactor.sdk import Limits

    defaults.section("PWM", {"1": "stirring"})  # the HAT's channel for the stirrer, as upstream
    defaults.section(
        "stirring.config",
        {
            "initial_target_rpm": 500.0,
            "initial_duty_cycle": 15.0,
            "pwm_hz": 200.0,
            "use_rpm": True,
            # how often the RPM is measured and the duty cycle corrected
            "duration_between_updates_seconds": 23.0,
            # the hall sensor is read for this long at each update
            "rpm_measurement_seconds": 2.0,
            # full power this long at start-up and after a stall, to break the bar free
            "kick_duration_seconds": 0.25,
            "hall_pulses_per_revolution": 1,
            # pause stirring during each OD reading (the vortex scatters light)
            "enable_dodging_od": False,
            "pre_delay_duration": 1.0,
            "post_delay_duration": 0.5,
        },
        limits={
            "initial_target_rpm": Limits(minimum=0, maximum=2000),
            "initial_duty_cycle": Limits(minimum=0, maximum=100),
            "pwm_hz": Limits(above=0),
            "duration_between_updates_seconds": Limits(above=0),
            "rpm_measurement_seconds": Limits(above=0),
            "kick_duration_seconds": Limits(minimum=0),
            "hall_pulses_per_revolution": Limits(minimum=1),
            "pre_delay_duration": Limits(minimum=0),
            "post_delay_duration": Limits(minimum=0),
        },
    )
    defaults.section("stirring.pid", {"Kp": 0.01, "Ki": 0.0, "Kd": 0.0})


# -- the leader's database: the time series declared once (table, sink, dataset, chart) ---------
@hookimpl
def pioreactor_register_timeseries(registry):
    registry.add(
        "stirring_rates",
        topics="pioreactor/+/+/stirring/measured_rpm",
        parser="pioreactor.plugins_core.stirring.records:measured_rpm",
        columns={"measured_rpm": "REAL NOT NULL"},
        units={"measured_rpm": "RPM"},
        description="Stirring speed measured by the hall sensor.",
        chart={
            "chart_key": "stirring_rates",
            "title": "Stirring speed",
            "topic": "stirring/measured_rpm",
            "payload_key": "measured_rpm",
            "y_axis_label": "RPM",
            "column": "measured_rpm",
        },
    )


# -- what a user interface shows -----------------------------------------------------------------
@hookimpl
def pioreactor_register_ui_descriptors(registry):
    registry.add_job(
        {
            "job_name": "stirring",
            "display_name": "Stirring",
            "description": "Stir the vial at a target RPM, measured by the hall sensor.",
            "fields": [
                {"key": "target_rpm", "label": "Target RPM", "type": "float", "default": 500.0, "unit": "RPM", "settable": True},
                {"key": "duty_cycle", "label": "Duty cycle", "type": "float", "unit": "%", "settable": True},
                {"key": "use_rpm", "label": "Closed loop on RPM", "type": "boolean", "default": True},
            ],
        }
    )

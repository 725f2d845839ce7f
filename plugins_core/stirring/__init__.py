"""Stirring: closed-loop RPM control of the stir bar."""

from pioreactor.sdk import hookimpl


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add(
        "stirring", "pioreactor.plugins_core.stirring.job:Stirrer", summary="Stir the vial at a target RPM"
    )


@hookimpl
def pioreactor_register_config_defaults(defaults):
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
    )
    defaults.section("stirring.pid", {"Kp": 0.01, "Ki": 0.0, "Kd": 0.0})

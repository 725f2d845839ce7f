"""The monitor: the unit's supervisor (switches off what a dead job left on), its health checks,
status LED and button, and the hardware self-test."""

from pioreactor.sdk import hookimpl

# [monitor]: how often it looks, and when it complains
MONITOR_DEFAULTS: dict[str, object] = {
    # wall-clock seconds between looks for outputs that a dead job left on
    "sweep_every_seconds": 0.5,
    # wall-clock seconds between health checks (disk, CPU, power, clock, broker)
    "check_every_seconds": 60.0,
    "disk_usage_warning_percent": 80.0,
    "memory_usage_warning_percent": 75.0,
    "cpu_usage_warning_percent": 85.0,
    "cpu_temperature_warning_celsius": 70.0,
    # below this the PWM outputs (pumps, heater, stirring) lose strength
    "min_pwm_rail_volts": 4.8,
    "max_clock_skew_seconds": 5.0,
    # the leader's web API port, for reading its clock (empty: [web] port, else 80)
    "leader_web_port": "",
    # react to the HAT's button (status LED on while it is held, button_down published)
    "use_button": True,
}

# [self_test]
SELF_TEST_DEFAULTS: dict[str, object] = {
    # clock seconds the heater stays at each duty cycle while the temperature is watched
    "heating_step_seconds": 10.0,
    # clock seconds the stirrer runs at each duty cycle before its RPM is measured
    "stirring_step_seconds": 3.0,
}


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add(
        "monitor",
        "pioreactor.plugins_core.monitor.job:Monitor",
        summary="Supervise this unit: switch off what dead jobs left on, check its health",
    )
    registry.add(
        "self_test",
        "pioreactor.plugins_core.monitor.self_test:SelfTest",
        summary="Check the hardware (HAT, heater, photodiodes, LEDs, stirring) with a vial of water",
    )


@hookimpl
def pioreactor_register_config_defaults(defaults):
    defaults.section("monitor", MONITOR_DEFAULTS)
    defaults.section("self_test", SELF_TEST_DEFAULTS)

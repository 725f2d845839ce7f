"""Temperature: the ``temperature_automation`` job and its automations (thermostat, only_record_temperature)."""

from pioreactor.sdk import hookimpl


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add(
        "temperature_automation",
        "pioreactor.plugins_core.temperature.cli:temperature_automation",
        summary="Read the temperature and drive the heater with an automation",
    )


@hookimpl
def pioreactor_register_automations(registry):
    registry.add(
        "temperature",
        "thermostat",
        "pioreactor.plugins_core.temperature.thermostat:Thermostat",
        summary="Hold the culture at a target temperature (PID on the heater)",
    )
    registry.add(
        "temperature",
        "only_record_temperature",
        "pioreactor.plugins_core.temperature.only_record:OnlyRecordTemperature",
        summary="Record the temperature; the heater stays off",
    )


@hookimpl
def pioreactor_register_config_defaults(defaults):
    defaults.section(
        "temperature_automation.config",
        {
            "read_every_seconds": 60.0,
            # the heater is paused this long before each reading, so it does not bias the sensor
            "heater_pause_seconds": 5.0,
            "samples_per_reading": 3,
            "pwm_hz": 8.0,
        },
    )
    defaults.section("temperature_automation.thermostat", {"Kp": 3.0, "Ki": 0.05, "Kd": 0.0})

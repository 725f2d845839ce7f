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
    from pioreactor.sdk import Limits

    defaults.section("PWM", {"5": "heating"})  # the HAT's channel for the heater, as upstream
    defaults.section(
        "temperature_automation.config",
        {
            # a reading (and a thermostat step) every minute: the thermostat's gains assume it
            "read_every_seconds": 60.0,
            # the heater is paused this long before each reading, so it does not bias the sensor
            "heater_pause_seconds": 5.0,
            "samples_per_reading": 3,
            "pwm_hz": 8.0,
        },
        limits={
            "read_every_seconds": Limits(above=0),
            "heater_pause_seconds": Limits(minimum=0),
            "samples_per_reading": Limits(minimum=1),
            "pwm_hz": Limits(above=0),
        },
    )
    # The thermostat's PID output is the *change* of the heater's duty cycle at each reading (as
    # upstream), so, per minute-long reading: Kp adds Kp % per degree C of error (integral action
    # on the duty cycle), Kd adds Kd % per degree C the temperature fell since the last reading
    # (proportional action), and Ki would add a double integral (leave it 0).
    # Upstream's Kp 3 and Ki 0, with Kd raised from 4.5 to 12 because we read every minute
    # (upstream about every 4): the simulator's vial (+18 degrees C at 100 %, 4 min time constant)
    # goes from 22 to 30 degrees C in ~15 min without overshoot, then stays within -0.1/+0.25
    # degrees C of the target (the sawtooth of the heater pause before each reading). Slower vials
    # (10-30 min time constants, for hardware that heats more gently) stay stable and overshoot a
    # step by 0.3-1.5 degrees C instead of 2.1-2.7 with Kd 4.5; one 0.0625 degrees C step of the
    # HAT's sensor moves the duty cycle by 0.75 %.
    defaults.section("temperature_automation.thermostat", {"Kp": 3.0, "Ki": 0.0, "Kd": 12.0})


# -- the leader's database (tables, what streams into them, what exports offer) ----------------
@hookimpl
def pioreactor_register_timeseries(registry):
    from pioreactor.sdk.automations.events import add_automation_events

    add_automation_events(registry, "temperature", "What the temperature automation did at each run.")
    prefix = "pioreactor/+/+/temperature_automation"
    registry.add(
        "temperature_readings",
        topics=f"{prefix}/temperature",
        parser="pioreactor.plugins_core.temperature.records:temperature",
        columns={"temperature_c": "REAL NOT NULL"},
        units={"temperature_c": "°C"},
        description="Temperature of the vial, read by the temperature automation.",
        chart={
            "chart_key": "temperature",
            "title": "Temperature",
            "topic": "temperature_automation/temperature",
            "payload_key": "temperature",
            "y_axis_label": "℃",
            "column": "temperature_c",
        },
    )


# -- what a user interface shows -----------------------------------------------------------------
@hookimpl
def pioreactor_register_ui_descriptors(registry):
    registry.add_automation(
        {
            "automation_name": "thermostat",
            "kind": "temperature",
            "display_name": "Thermostat",
            "description": "Hold the culture at a target temperature with a PID on the heater.",
            "fields": [
                {"key": "target_temperature", "label": "Target temperature", "type": "float", "default": 30.0, "unit": "℃", "settable": True}
            ],
        }
    )

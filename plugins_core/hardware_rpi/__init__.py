"""The Raspberry Pi hardware backend (lgpio for PWM and GPIO, smbus2 for I2C)."""

from pioreactor.sdk import hookimpl

# BCM pin of each PWM channel and input of a Pioreactor HAT >= 1.1 (upstream's wiring).
# HAT 1.0 and older: hall_sensor = 25; HAT 0.1: pwm_1 = 6. Override under [rpi.pins].
PIN_DEFAULTS: dict[str, int] = {
    "pwm_1": 17,
    "pwm_2": 13,
    "pwm_3": 16,
    "pwm_4": 12,
    "pwm_5": 18,
    "hall_sensor": 21,
    # the PCB's status LED and the HAT's button (the monitor's)
    "status_led": 23,
    "button": 24,
}


@hookimpl
def pioreactor_register_hardware_backends(registry):
    registry.add(
        "rpi",
        "pioreactor.plugins_core.hardware_rpi.backend:RaspberryPiBackend",
        summary="Raspberry Pi with a Pioreactor HAT (lgpio, smbus2)",
    )


@hookimpl
def pioreactor_register_config_defaults(defaults):
    defaults.section("rpi.pins", dict(PIN_DEFAULTS))
    # ratio that turns the ADC's aux reading into the PWM rail's volts; empty: not measured
    defaults.section("rpi", {"aux_voltage_divider": ""})

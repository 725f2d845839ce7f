"""The Raspberry Pi hardware backend (lgpio for PWM and GPIO, smbus2 for I2C)."""

from pioreactor.sdk import hookimpl


@hookimpl
def pioreactor_register_hardware_backends(registry):
    registry.add(
        "rpi",
        "pioreactor.plugins_core.hardware_rpi.backend:RaspberryPiBackend",
        summary="Raspberry Pi with a Pioreactor HAT (lgpio, smbus2)",
    )

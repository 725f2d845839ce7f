"""The Pi and HAT as the monitor sees them: HAT and heating PCB on I2C, CPU temperature and
throttling from the Pi, the PWM rail through the ADC's ``aux`` input, status LED and button on
GPIO (``[rpi.pins] status_led`` and ``button``)."""

from __future__ import annotations

import subprocess
from contextlib import suppress
from pathlib import Path
from typing import Any

CPU_THERMAL = Path("/sys/class/thermal/thermal_zone0/temp")
# bits of `vcgencmd get_throttled` that describe now (not "has occurred since boot")
THROTTLE_BITS = {0: "under-voltage", 1: "ARM frequency capped", 2: "throttled", 3: "soft temperature limit"}


def parse_throttled(text: str) -> list[str]:
    """``throttled=0x50005`` -> the problems it reports now."""
    value = int(text.strip().split("=")[-1], 16)
    return [name for bit, name in THROTTLE_BITS.items() if value & (1 << bit)]


class RpiBoard:
    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self._led_pin: int | None = None
        self._button_pin: int | None = None

    def _answers(self, address: int, name: str) -> bool:
        try:
            self.backend._device(address, name).read(0, 1)
            return True
        except Exception:
            return False

    def hat_present(self) -> bool:
        from pioreactor.plugins_core.hardware_rpi.backend import PICO_ADDRESS

        return self._answers(PICO_ADDRESS, "Pico")

    def heating_pcb_present(self) -> bool:
        from pioreactor.plugins_core.hardware_rpi.backend import TMP1075_ADDRESS

        return self._answers(TMP1075_ADDRESS, "TMP1075 temperature sensor")

    def pwm_rail_volts(self) -> float | None:
        divider = self.backend.config.getfloat("rpi", "aux_voltage_divider", fallback=None)
        if not divider:
            return None
        return float(self.backend.adc().read_voltage("aux")) * divider

    def cpu_temperature_celsius(self) -> float | None:
        try:
            return int(CPU_THERMAL.read_text().strip()) / 1000.0
        except (OSError, ValueError):
            return None

    def power_problems(self) -> list[str] | None:
        try:
            out = subprocess.run(["vcgencmd", "get_throttled"], capture_output=True, text=True, timeout=5)
            return parse_throttled(out.stdout)
        except (OSError, ValueError, subprocess.SubprocessError):
            return None

    def set_status_led(self, on: bool) -> None:
        lgpio, handle = self.backend._lgpio, self.backend._handle
        if self._led_pin is None:
            self._led_pin = self.backend.pin("status_led")
            lgpio.gpio_claim_output(handle, self._led_pin, 0)
        lgpio.gpio_write(handle, self._led_pin, 1 if on else 0)

    def button_pressed(self) -> bool | None:
        lgpio, handle = self.backend._lgpio, self.backend._handle
        try:
            if self._button_pin is None:
                self._button_pin = self.backend.pin("button")
                lgpio.gpio_claim_input(handle, self._button_pin, lgpio.SET_PULL_DOWN)
            return bool(lgpio.gpio_read(handle, self._button_pin))
        except Exception:
            return None

    def power(self, action: str) -> str:
        """``sudo reboot`` or ``sudo shutdown -h now``, started and left running (the answer to
        the caller goes out before the Pi goes down)."""
        commands = {"reboot": ["sudo", "reboot"], "shutdown": ["sudo", "shutdown", "-h", "now"]}
        if action not in commands:
            raise ValueError(f"power action must be reboot or shutdown, got {action!r}")
        subprocess.Popen(commands[action], start_new_session=True)  # noqa: S603 (fixed commands)
        return f"{' '.join(commands[action])} started"

    def close(self) -> None:
        for pin in (self._led_pin, self._button_pin):
            if pin is not None:
                with suppress(Exception):
                    self.backend._lgpio.gpio_free(self.backend._handle, pin)

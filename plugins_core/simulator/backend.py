"""The simulator's hardware backend: PWM outputs and a hall sensor wired to a simulated motor.

Each actuator's duty cycle is also written to intermittent storage (``simulator_actuators``),
which is how the other processes of the unit (and tests) see what this one drives.
"""

from __future__ import annotations

import random
import threading
from typing import Any

from pioreactor.plugins_core.simulator.faults import active_faults
from pioreactor.plugins_core.simulator.motor import MotorParameters, StirringMotor
from pioreactor.sdk import Clock, Config, HardwareNotFoundError, get_logger, local_intermittent_storage
from pioreactor.sdk.hardware import device_on_pwm_channel

ACTUATORS = "simulator_actuators"


def record_actuator(device: str, duty_cycle: float, at: float) -> None:
    with local_intermittent_storage(ACTUATORS) as store:
        store[device] = {"duty_cycle": duty_cycle, "at": at}


class SimulatedPwm:
    """A PWM output; on the stirring channel it drives the simulated motor."""

    def __init__(self, unit: SimulatedUnit, channel: str, device: str, motor: StirringMotor | None) -> None:
        self.unit = unit
        self.channel = channel
        self.device = device
        self.motor = motor
        self._duty_cycle = 0.0
        self._closed = False
        self._lock = threading.Lock()

    @property
    def duty_cycle(self) -> float:
        return self._duty_cycle

    def set_duty_cycle(self, duty_cycle: float) -> None:
        if not 0.0 <= duty_cycle <= 100.0:
            raise ValueError(f"duty cycle must be between 0 and 100, got {duty_cycle}")
        with self._lock:
            if self._closed:
                return
            self._duty_cycle = duty_cycle
            if self.motor is not None:
                self.motor.set_duty_cycle(duty_cycle)
            record_actuator(self.device or f"pwm{self.channel}", duty_cycle, self.unit.clock.time())

    def off(self) -> None:
        self.set_duty_cycle(0.0)

    def close(self) -> None:
        self.off()
        with self._lock:
            self._closed = True
        self.unit.release_pwm(self.channel)


class SimulatedHallSensor:
    def __init__(self, motor: StirringMotor) -> None:
        self.motor = motor

    def reset(self) -> None:
        self.motor.reset_edges()

    def edges(self) -> list[float]:
        return self.motor.edges()

    def close(self) -> None:
        pass


class SimulatedUnit:
    """The ``simulator`` hardware backend."""

    name = "simulator"

    def __init__(self, config: Config, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        seed = config.getint("simulation", "seed", fallback=0)
        self.rng = random.Random(seed or None)
        self.log = get_logger("simulator")
        self._pwms: dict[str, SimulatedPwm] = {}
        self._motor: StirringMotor | None = None
        self._lock = threading.Lock()

    @property
    def motor(self) -> StirringMotor:
        with self._lock:
            if self._motor is None:
                c = self.config
                params = MotorParameters(
                    rpm_per_duty_cycle=c.getfloat("simulation", "motor_rpm_per_duty_cycle", fallback=36.0),
                    deadband=c.getfloat("simulation", "motor_deadband_duty_cycle", fallback=2.0),
                    breakaway=c.getfloat("simulation", "motor_breakaway_duty_cycle", fallback=8.0),
                    time_constant=c.getfloat("simulation", "motor_time_constant_seconds", fallback=0.8),
                    speed_noise=c.getfloat("simulation", "motor_speed_noise", fallback=0.01),
                    pulses_per_revolution=c.getint("simulation", "hall_pulses_per_revolution", fallback=1),
                )
                self._motor = StirringMotor(params, self.clock.monotonic, self.rng, self._stirrer_stalled)
            return self._motor

    @staticmethod
    def _stirrer_stalled() -> bool:
        return bool(active_faults().get("stirrer_stalled"))

    def pwm(self, channel: str, hz: float) -> SimulatedPwm:
        with self._lock:
            if channel in self._pwms:
                raise HardwareNotFoundError(f"PWM channel {channel} is already in use in this process")
        device = device_on_pwm_channel(channel)
        motor = self.motor if device == "stirring" else None
        pwm = SimulatedPwm(self, channel, device, motor)
        with self._lock:
            self._pwms[channel] = pwm
        return pwm

    def release_pwm(self, channel: str) -> None:
        with self._lock:
            self._pwms.pop(channel, None)

    def edge_counter(self, pin: str) -> SimulatedHallSensor:
        if pin != "hall_sensor":
            raise HardwareNotFoundError(f"the simulator has no input named {pin!r} (it has: hall_sensor)")
        return SimulatedHallSensor(self.motor)

    def _not_yet(self, what: str) -> Any:
        raise HardwareNotFoundError(f"the simulator does not model the {what} yet")

    def adc(self) -> Any:
        return self._not_yet("ADC (photodiodes)")

    def led_driver(self) -> Any:
        return self._not_yet("LED driver")

    def temperature_sensor(self) -> Any:
        return self._not_yet("temperature sensor")

    def close(self) -> None:
        for pwm in list(self._pwms.values()):
            pwm.close()

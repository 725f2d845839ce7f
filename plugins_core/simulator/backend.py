"""The simulator's hardware backend: the HAT's outputs and sensors wired to a virtual vial.

* PWM outputs: the stirring channel drives a simulated motor (inertia, hall sensor), private to
  this process; the heating channel heats the shared vial; the media, alt-media and waste
  channels pump liquid into or out of it (``[simulation] pump_ml_per_second`` at 100 %).
* The LED driver sets the vial's LED intensities; the ``[leds]`` channel labelled ``IR``
  (A when none is) lights the photodiodes.
* The ADC reads the photodiodes on channels ``1``-``4`` at the angles that
  ``[od_config.photodiode_channel]`` gives them, and ``aux`` (nothing connected).
* The temperature sensor reads the vial's temperature.

The vial is shared by every process of the unit (see ``world.py``). Each PWM output's duty
cycle is also written to intermittent storage (``simulator_actuators``), which is how the other
processes of the unit (and tests) see what this one drives. Faults (``faults.py``) are looked up
at every read.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from pioreactor.plugins_core.simulator import PHOTODIODE_CHANNEL_DEFAULTS, SIMULATION_DEFAULTS
from pioreactor.plugins_core.simulator.board import SimulatedBoard
from pioreactor.plugins_core.simulator.faults import active_faults, photodiode_is_disconnected
from pioreactor.plugins_core.simulator.motor import MotorParameters, StirringMotor
from pioreactor.plugins_core.simulator.sensors import (
    check_angle,
    garbage_celsius,
    photodiode_signal,
    read_photodiode,
    read_thermometer,
    read_unconnected,
)
from pioreactor.plugins_core.simulator.vial import LED_CHANNELS, PUMPS
from pioreactor.plugins_core.simulator.world import World, optics_from_config
from pioreactor.sdk import (
    Clock,
    Config,
    ConfigError,
    HardwareNotFoundError,
    get_logger,
    local_intermittent_storage,
)
from pioreactor.sdk.hardware import device_on_pwm_channel

ACTUATORS = "simulator_actuators"
ADC_CHANNELS = ("1", "2", "3", "4", "aux")
PHOTODIODE_SECTION = "od_config.photodiode_channel"


def record_actuator(device: str, duty_cycle: float, at: float) -> None:
    with local_intermittent_storage(ACTUATORS) as store:
        store[device] = {"duty_cycle": duty_cycle, "at": at}


class SimulatedPwm:
    """A PWM output; it drives the simulated motor, or the vial's heater or a pump, or nothing."""

    def __init__(
        self,
        unit: SimulatedUnit,
        channel: str,
        device: str,
        motor: StirringMotor | None,
        drive: Callable[[float], None] | None = None,
    ) -> None:
        self.unit = unit
        self.channel = channel
        self.device = device
        self.motor = motor
        self.drive = drive
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
            if self.drive is not None:
                self.drive(duty_cycle)
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


class SimulatedAdc:
    """The ADC: photodiodes looking at the shared vial, plus ``aux``."""

    def __init__(self, unit: SimulatedUnit) -> None:
        self.unit = unit

    def read_voltage(self, channel: str) -> float:
        if channel not in ADC_CHANNELS:
            raise ValueError(f"unknown ADC channel {channel!r} (known: {', '.join(ADC_CHANNELS)})")
        unit = self.unit
        vial, faults = unit.world.observe()
        stray = float(faults.get("ambient_light") or 0.0)
        angle = unit.angle_of(channel, faults)
        if channel == "aux" or not angle or photodiode_is_disconnected(faults, channel):
            return read_unconnected(unit.rng, unit.optics) + stray
        ir_channel = unit.ir_led_channel
        ir = vial.leds.get(ir_channel, 0.0)
        other_light = sum(percent for led, percent in vial.leds.items() if led != ir_channel)
        signal = photodiode_signal(angle, vial.od, ir, other_light, unit.optics)
        # the hum follows the kernel clock, the time base od_reading samples on, so a reader that
        # spreads its samples over a mains period can fit it out on a scaled clock too
        return read_photodiode(signal, unit.rng, unit.clock.monotonic(), unit.optics) + stray


class SimulatedLedDriver:
    """The LED driver: channels A-D of the shared vial."""

    def __init__(self, unit: SimulatedUnit) -> None:
        self.unit = unit

    def set_intensity(self, channel: str, percent: float) -> None:
        if channel not in LED_CHANNELS:
            raise ValueError(f"unknown LED channel {channel!r} (known: {', '.join(LED_CHANNELS)})")
        if not 0.0 <= percent <= 100.0:
            raise ValueError(f"LED intensity must be between 0 and 100 %, got {percent}")
        self.unit.world.set_led(channel, percent)


class SimulatedTemperatureSensor:
    """The temperature sensor: the vial's temperature with a little noise."""

    def __init__(self, unit: SimulatedUnit) -> None:
        self.unit = unit

    def read_celsius(self) -> float:
        vial, faults = self.unit.world.observe()
        if faults.get("temperature_sensor_garbage"):
            return garbage_celsius(self.unit.rng)
        return read_thermometer(vial.temperature, self.unit.rng, self.unit.temperature_noise)


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
        self.world = World(config, clock)
        self.optics = optics_from_config(config)
        self.temperature_noise = config.getfloat(
            "simulation", "temperature_noise_c", fallback=SIMULATION_DEFAULTS["temperature_noise_c"]
        )
        self.photodiode_angles = photodiode_angles(config)
        self.ir_led_channel = ir_led_channel(config)

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
        drive: Callable[[float], None] | None = None
        if device == "heating":
            drive = self.world.set_heater_duty_cycle
        elif device in PUMPS:
            drive = lambda duty_cycle: self.world.set_pump_duty_cycle(device, duty_cycle)  # noqa: E731
        pwm = SimulatedPwm(self, channel, device, motor, drive)
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

    def adc(self) -> SimulatedAdc:
        return SimulatedAdc(self)

    def led_driver(self) -> SimulatedLedDriver:
        return SimulatedLedDriver(self)

    def temperature_sensor(self) -> SimulatedTemperatureSensor:
        return SimulatedTemperatureSensor(self)

    def board(self) -> SimulatedBoard:
        return SimulatedBoard(self.clock)

    def angle_of(self, channel: str, faults: dict[str, object]) -> str:
        """The angle the photodiode on ``channel`` sits at (REF and the first signal photodiode
        swap places under the ``reference_photodiode_misplaced`` fault)."""
        angle = self.photodiode_angles.get(channel, "")
        if not faults.get("reference_photodiode_misplaced"):
            return angle
        signal = next((a for c, a in sorted(self.photodiode_angles.items()) if a and a != "REF"), "")
        if angle == "REF":
            return signal
        return "REF" if angle and angle == signal else angle

    def close(self) -> None:
        for pwm in list(self._pwms.values()):
            pwm.close()
        self.world.close()


def photodiode_angles(config: Config) -> dict[str, str]:
    """ADC channel -> angle (``REF``, ``45``, ``90``, ``135``, ``180``; empty: no photodiode)."""
    if config.has_section(PHOTODIODE_SECTION):
        section = config.section(PHOTODIODE_SECTION)
    else:
        section = {k: str(v) for k, v in PHOTODIODE_CHANNEL_DEFAULTS.items()}
    angles = {}
    for channel, angle in section.items():
        angle = angle.strip()
        if angle:
            try:
                check_angle(angle)
            except ValueError as err:
                raise ConfigError(f"[{PHOTODIODE_SECTION}] {channel} = {angle!r}: {err}. Fix it in config.ini.") from None
        angles[channel] = angle
    return angles


def ir_led_channel(config: Config) -> str:
    """The LED channel that ``[leds]`` labels ``IR`` (A when none is)."""
    for channel, label in config.section("leds").items():
        if label.strip() == "IR":
            return channel
    return "A"

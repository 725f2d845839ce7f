"""Control helpers shared by jobs (stirring, thermostat, morbidostat): a PID controller."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PID:
    """A PID controller with the integral clamped to the output limits (no wind-up).

    ``update(measured, dt)`` returns the correction to apply; the derivative is taken on the
    measurement, so a setpoint change does not kick the output.
    """

    kp: float
    ki: float
    kd: float
    setpoint: float
    output_min: float | None = None
    output_max: float | None = None
    integral: float = 0.0
    last_measured: float | None = None
    last_output: float = 0.0
    last_error: float = 0.0

    def _clamp(self, value: float) -> float:
        if self.output_max is not None:
            value = min(value, self.output_max)
        if self.output_min is not None:
            value = max(value, self.output_min)
        return value

    def update(self, measured: float, dt: float) -> float:
        error = self.setpoint - measured
        self.integral = self._clamp(self.integral + self.ki * error * dt)
        derivative = 0.0
        if self.last_measured is not None and dt > 0:
            derivative = -(measured - self.last_measured) / dt
        self.last_measured = measured
        self.last_error = error
        self.last_output = self._clamp(self.kp * error + self.integral + self.kd * derivative)
        return self.last_output

    def set_setpoint(self, setpoint: float) -> None:
        self.setpoint = setpoint
        self.integral = 0.0

    def as_dict(self) -> dict[str, float | None]:
        return {
            "setpoint": self.setpoint,
            "Kp": self.kp,
            "Ki": self.ki,
            "Kd": self.kd,
            "integral": self.integral,
            "latest_input": self.last_measured,
            "latest_output": self.last_output,
            "output_limits_lb": self.output_min,
            "output_limits_ub": self.output_max,
        }

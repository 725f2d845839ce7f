"""The monitor's health checks. Each problem is logged once when it appears (with its error code
blinked) and once when it clears, never at every check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pioreactor.plugins_core.monitor import error_codes, system


@dataclass
class ProblemLog:
    logger: Any
    blink: Callable[[int], Any]
    active: dict[str, str] = field(default_factory=dict)

    def over(self, key: str, value: float, limit: float, *, margin: float) -> bool:
        """``value`` is above ``limit``; once a problem, it stays one until ``margin`` below
        (a value wavering around the limit is not a new problem every check)."""
        return value > (limit - margin if key in self.active else limit)

    def report(self, key: str, problem: str | None, *, code: int | None = None, level: str = "warning") -> None:
        if problem is None:
            if self.active.pop(key, None) is not None:
                self.logger.info("Resolved: %s.", key.replace("_", " "))
            return
        if key in self.active:
            self.active[key] = problem
            return
        self.active[key] = problem
        getattr(self.logger, level)(problem)
        if code is not None:
            self.blink(code)


@dataclass
class Thresholds:
    disk_percent: float
    memory_percent: float
    cpu_percent: float
    cpu_celsius: float
    min_rail_volts: float
    max_clock_skew: float


def check_computer(problems: ProblemLog, limits: Thresholds, storage: Any, cpu: system.CpuUsage, board: Any) -> dict[str, Any]:
    """Disk, memory, CPU use and temperature; returns ``computer_statistics``."""
    disk = system.disk_usage_percent(storage)
    memory = system.memory_usage_percent()
    cpu_percent = cpu.percent()
    celsius = _ask(board, "cpu_temperature_celsius")
    problems.report(
        "disk_space",
        f"Disk space is low: {disk:g}% used (above {limits.disk_percent:g}%). Free some space, e.g. old exports and backups."
        if problems.over("disk_space", disk, limits.disk_percent, margin=2.0)
        else None,
        code=error_codes.DISK_IS_ALMOST_FULL,
    )
    # a value not measured this time (None) neither raises nor clears a problem
    if memory is not None:
        problems.report(
            "memory",
            f"Memory use is high: {memory:g}% (above {limits.memory_percent:g}%)." if problems.over("memory", memory, limits.memory_percent, margin=5.0) else None,
        )
    if cpu_percent is not None:
        problems.report(
            "cpu_usage",
            f"CPU use is high: {cpu_percent:g}% (above {limits.cpu_percent:g}%)." if problems.over("cpu_usage", cpu_percent, limits.cpu_percent, margin=10.0) else None,
        )
    if celsius is not None:
        problems.report(
            "cpu_temperature",
            f"The CPU is hot: {celsius:g} °C (above {limits.cpu_celsius:g} °C). Give the computer some air."
            if problems.over("cpu_temperature", celsius, limits.cpu_celsius, margin=3.0)
            else None,
        )
    return {
        "disk_usage_percent": disk,
        "cpu_usage_percent": cpu_percent,
        "memory_usage_percent": memory,
        "cpu_temperature_celcius": celsius,  # upstream's spelling, which the UI reads
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def check_power(problems: ProblemLog, limits: Thresholds, board: Any) -> float | None:
    """Under-voltage and throttling, and the PWM rail; returns the rail's volts (None: not measured)."""
    volts = _ask(board, "pwm_rail_volts")
    reported = _ask(board, "power_problems") or []
    found = list(reported)
    if volts is not None and volts <= limits.min_rail_volts:
        found.append(f"the PWM rail is at {volts:.2f} V (at most {limits.min_rail_volts:g} V)")
    problems.report(
        "power",
        f"Power problem: {'; '.join(found)}. Pumps, heater and stirring may be weak: use a stronger power supply or AUX power."
        if found
        else None,
        code=error_codes.VOLTAGE_PROBLEM,
    )
    return float(volts) if volts is not None else None


def check_hat(problems: ProblemLog, board: Any) -> None:
    present = _ask(board, "hat_present")
    problems.report("hat", "No HAT found: is it seated on the header?" if present is False else None)


def check_broker(problems: ProblemLog, connected: bool, where: str) -> None:
    problems.report(
        "broker_connection",
        f"Not connected to the MQTT broker at {where}: nothing this unit does reaches the leader until it reconnects."
        if not connected
        else None,
        code=error_codes.MQTT_CLIENT_NOT_CONNECTED_TO_LEADER,
    )


def check_network(problems: ProblemLog, address: str) -> None:
    problems.report(
        "network",
        "No network address: check the Wi-Fi or Ethernet connection." if not address else None,
        code=error_codes.NO_NETWORK_CONNECTION,
    )


def check_clock(problems: ProblemLog, limits: Thresholds, skew: float | None, leader: str) -> None:
    problems.report(
        "clock_skew",
        f"This unit's clock is {skew:+.1f} s off the leader's ({leader}): timestamps will disagree. Sync the clocks (NTP)."
        if skew is not None and abs(skew) > limits.max_clock_skew
        else None,
    )


def _ask(board: Any, method: str) -> Any:
    """A board reading, or None where the board (or backend) has no such thing."""
    function = getattr(board, method, None) if board is not None else None
    if function is None:
        return None
    try:
        return function()
    except Exception:
        return None

"""Defaults of the sections the kernel itself reads; plugins declare theirs through a hook."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pioreactor.kernel.config import Limits

if TYPE_CHECKING:
    from pioreactor.kernel.config import Config

LOG_LEVELS = Limits(choices=("DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"))

KERNEL_DEFAULTS: dict[str, dict[str, object]] = {
    "mqtt": {
        "broker_address": "localhost",
        "broker_port": 1883,
        "username": "",
        "password": "",
        "use_tls": False,
        "keepalive_seconds": 60,
        # upstream keeps at most 100 messages while the broker is unreachable
        "max_queued_messages": 100,
    },
    "cluster": {
        # empty: this unit leads itself (a single-unit setup)
        "leader_hostname": "",
    },
    "logging": {
        # empty: $PIO_HOME/logs/pioreactor.log
        "log_file": "",
        "console_log_level": "INFO",
        "file_log_level": "DEBUG",
        "mqtt_log_level": "DEBUG",
    },
    # [PWM]: which device each PWM channel of the HAT drives; each plugin declares its channels
    "hardware": {
        # auto: the Raspberry Pi backend where its GPIO chip exists, else the simulator
        "backend": "auto",
    },
    "simulation": {
        # 1.0 is real time; 600 runs ten simulated minutes per wall-clock second
        "clock_speed": 1.0,
    },
}


# what the kernel's keys accept beyond their type
KERNEL_LIMITS: dict[tuple[str, str], Limits] = {
    ("mqtt", "broker_port"): Limits(minimum=1, maximum=65535),
    # paho needs a keepalive of at least a second (0 would turn the broker's liveness check off)
    ("mqtt", "keepalive_seconds"): Limits(minimum=1, maximum=65535),
    ("mqtt", "max_queued_messages"): Limits(minimum=0),
    ("logging", "console_log_level"): LOG_LEVELS,
    ("logging", "file_log_level"): LOG_LEVELS,
    ("logging", "mqtt_log_level"): LOG_LEVELS,
    ("simulation", "clock_speed"): Limits(above=0, maximum=1_000_000),
}


def declare_kernel_defaults(config: Config) -> None:
    for section, keys in KERNEL_DEFAULTS.items():
        for key, value in keys.items():
            config.declare(section, key, value, plugin="kernel", limits=KERNEL_LIMITS.get((section, key)))

"""Config values outside what their key accepts are refused, naming the file, section and key."""

from __future__ import annotations

import pytest
from pioreactor.kernel.config import Limits, load_config
from pioreactor.kernel.errors import ConfigError
from pioreactor.sdk.testing import PioHome


@pytest.mark.parametrize(
    ("section", "key", "value", "why"),
    [
        ("simulation", "clock_speed", "nan", "finite"),
        ("simulation", "clock_speed", "0", "above 0"),
        ("mqtt", "keepalive_seconds", "-1", "at least 1"),
        ("mqtt", "broker_port", "99999", "at most 65535"),
        ("logging", "console_log_level", "LOUD", "one of DEBUG"),
        ("simulation", "motor_time_constant_seconds", "0", "above 0"),
        ("stirring.config", "initial_duty_cycle", "150", "at most 100"),
        ("stirring.pid", "Kp", "inf", "finite"),
    ],
)
def test_pio_run_refuses_a_value_out_of_range(pio_home: PioHome, pio, section, key, value, why) -> None:
    unit_config = pio_home.path / "unit_config.ini"
    unit_config.write_text(f"[{section}]\n{key}={value}\n")
    result = pio("run", "stirring", timeout=60)
    assert result.returncode != 0
    message = result.stderr
    assert f"[{section}] {key} = '{value}'" in message, message
    assert str(unit_config) in message
    assert why in message
    assert "Traceback" not in message


def test_an_override_out_of_range_names_the_override(pio_home: PioHome, pio) -> None:
    result = pio("run", "--config-override", "stirring.config", "pwm_hz", "-5", "stirring", timeout=60)
    assert result.returncode != 0
    assert "--config-override: [stirring.config] pwm_hz = '-5' must be above 0" in result.stderr


def test_duplicate_sections_and_keys_warn(pio_home: PioHome) -> None:
    pio_home.config_path.write_text(
        pio_home.config_path.read_text() + "\n[stirring.config]\npwm_hz=100\npwm_hz=300\n[stirring.config]\nuse_rpm=1\n"
    )
    config = load_config()
    assert any("[stirring.config] pwm_hz is set again" in w for w in config.warnings)
    assert any("section [stirring.config] appears again" in w for w in config.warnings)
    assert config.get("stirring.config", "pwm_hz") == "300"


def test_a_plugin_declares_limits_with_its_defaults(pio_home: PioHome) -> None:
    config = load_config(overrides=[("my_plugin", "speed", "12"), ("my_plugin", "mode", "fast")])
    config.declare("my_plugin", "speed", 1.0, plugin="mine", limits=Limits(minimum=0, maximum=10))
    config.declare("my_plugin", "mode", "slow", plugin="mine", limits=Limits(choices=("slow", "medium")))
    problems = [str(p) for p in config.validate(["my_plugin"])]
    assert any("[my_plugin] speed = '12' must be at least 0 and at most 10" in p for p in problems)
    assert any("[my_plugin] mode = 'fast' must be one of slow, medium" in p for p in problems)
    with pytest.raises(ConfigError, match="must be at least 0"):
        config.getfloat("my_plugin", "speed")

"""Layered configuration, and errors that say where the bad value is."""

from __future__ import annotations

from pathlib import Path

import pytest
from pioreactor.kernel.config import REQUIRED, load_config
from pioreactor.kernel.errors import ConfigError
from pioreactor.kernel.plugins import load_config_with_plugins
from pioreactor.sdk.testing import reset_process_state


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIO_HOME", str(tmp_path))
    reset_process_state()
    yield tmp_path
    reset_process_state()


def test_layers_in_order_defaults_config_unit_config_overrides(home: Path) -> None:
    (home / "config.ini").write_text("[stirring.config]\npwm_hz=100\ninitial_duty_cycle=20\ninitial_target_rpm=300\n")
    (home / "unit_config.ini").write_text("[stirring.config]\ninitial_duty_cycle=25\ninitial_target_rpm=350\n")
    config = load_config_with_plugins([("stirring.config", "initial_target_rpm", "400")])
    assert config.getfloat("stirring.config", "kick_duration_seconds") == 0.25  # plugin default
    assert config.getfloat("stirring.config", "pwm_hz") == 100  # config.ini
    assert config.getfloat("stirring.config", "initial_duty_cycle") == 25  # unit_config.ini
    assert config.getfloat("stirring.config", "initial_target_rpm") == 400  # --config-override
    assert config.origin("stirring.config", "initial_duty_cycle") == str(home / "unit_config.ini")


def test_wrong_type_names_file_section_and_key(home: Path) -> None:
    (home / "unit_config.ini").write_text("[mqtt]\nbroker_port=eighteen\n")
    config = load_config()
    with pytest.raises(ConfigError) as err:
        config.getint("mqtt", "broker_port")
    message = str(err.value)
    assert str(home / "unit_config.ini") in message
    assert "[mqtt] broker_port" in message and "'eighteen'" in message


def test_validate_reports_every_problem(home: Path) -> None:
    (home / "config.ini").write_text("[stirring.config]\npwm_hz=fast\nuse_rpm=maybe\n")
    problems = load_config_with_plugins().validate({"stirring.config"})
    assert sorted(str(p).split(": ")[1].split(" =")[0] for p in problems) == [
        "[stirring.config] pwm_hz",
        "[stirring.config] use_rpm",
    ]


def test_missing_required_key_says_where_to_add_it(home: Path) -> None:
    config = load_config()
    config.declare("lab", "api_token", REQUIRED, plugin="lab_plugin")
    with pytest.raises(ConfigError, match=r"\[lab\] api_token is required"):
        config.typed("lab", "api_token")
    assert any("api_token" in str(p) for p in config.validate({"lab"}))


def test_malformed_file_names_file_and_line(home: Path) -> None:
    (home / "config.ini").write_text("broker_port=1883\n[mqtt]\n")
    with pytest.raises(ConfigError, match=r"config.ini, line 1: a value appears before any \[section\]"):
        load_config()


def test_a_file_edited_while_the_process_runs_is_read_again(home: Path) -> None:
    # a process (the fork server above all) keeps each file's parse: the same bytes only
    (home / "config.ini").write_text("[stirring.config]\npwm_hz=150\n")
    assert load_config_with_plugins().getfloat("stirring.config", "pwm_hz") == 150
    (home / "config.ini").write_text("[stirring.config]\npwm_hz=250\n")  # same size, same second
    assert load_config_with_plugins().getfloat("stirring.config", "pwm_hz") == 250
    (home / "config.ini").unlink()
    assert load_config_with_plugins().getfloat("stirring.config", "pwm_hz") == 200  # the default


def test_windows_line_endings_read_as_any_other(home: Path) -> None:
    (home / "config.ini").write_bytes(b"[stirring.config]\r\npwm_hz = 150\r\n[mqtt]\r\nbroker_port=1884\r\n")
    config = load_config()
    assert config.get("stirring.config", "pwm_hz") == "150"
    assert config.getint("mqtt", "broker_port") == 1884


def test_declaring_a_key_on_one_config_leaves_the_others_alone(home: Path) -> None:
    # configs share the declared defaults until one of them declares more
    first = load_config_with_plugins()
    first.declare("lab", "api_token", "secret", plugin="lab_plugin")
    second = load_config_with_plugins()
    assert first.get("lab", "api_token") == "secret"
    assert ("lab", "api_token") not in second.declared and not second.has_option("lab", "api_token")
    assert second.getfloat("stirring.config", "kick_duration_seconds") == 0.25


def test_pio_run_refuses_to_start_with_a_broken_config(pio_home, pio) -> None:  # type: ignore[no-untyped-def]
    pio_home.write_config("[stirring.config]\npwm_hz=fast\n")
    result = pio("run", "stirring")
    assert result.returncode == 1
    assert "[stirring.config] pwm_hz = 'fast' is not a number" in result.stderr
    assert str(pio_home.config_path) in result.stderr


def test_config_override_reaches_the_job(pio) -> None:  # type: ignore[no-untyped-def]
    result = pio("run", "--config-override", "stirring.config", "pwm_hz", "fast", "stirring")
    assert result.returncode == 1
    assert "--config-override: [stirring.config] pwm_hz = 'fast' is not a number" in result.stderr
